//! The compiled policy and its per-access decisions.

use std::cell::Cell;

use globset::{Candidate, GlobSet, GlobSetBuilder};

use crate::builder::Compiled;
use crate::error::PolicyError;
use crate::names::{Action, Category};
use crate::origin::RuleOrigin;

/// The action for one access and the rule that decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision<'a> {
    pub action: Action,
    pub origin: &'a RuleOrigin,
}

/// An immutable policy, built by [`crate::PolicyBuilder`].
#[derive(Debug)]
pub struct Policy {
    /// Every rule's origin. The first entries are the defaults, in [`Category::ALL`] order.
    origins: Vec<RuleOrigin>,
    hide: Matcher,
    /// Origin index of each hide pattern, in order.
    hide_origins: Vec<usize>,
    /// The patterns that protect paths (hide, and the deny and kill rules of the categories
    /// that describe an object): literal root, whether the glob is a whole tree, origin index.
    guards: Vec<Guard>,
    /// Per category, in [`Category::ALL`] order.
    categories: Vec<CategoryRules>,
}

/// A pattern that protects paths, for [`Policy::restricted_below`].
#[derive(Debug)]
struct Guard {
    root: String,
    glob: String,
    whole_tree: bool,
    origin: usize,
}

#[derive(Debug)]
struct CategoryRules {
    default: Action,
    /// Literal roots of the deny and kill rules' globs, with the rule's origin index.
    denied_roots: Vec<(String, usize)>,
    /// Literal roots of the allow and audit rules' globs, for the Landlock bound.
    allowed_roots: Vec<String>,
    /// Action and origin index of each rule, in rule order.
    rules: Vec<(Action, usize)>,
    matcher: Matcher,
}

/// All globs of a list of rules, compiled into one set.
#[derive(Debug)]
struct Matcher {
    set: GlobSet,
    /// For each glob in the set, the index of the rule it belongs to.
    rule_of_glob: Vec<usize>,
}

thread_local! {
    /// Reused buffer for the indices of matching globs, so that matching does not allocate.
    static MATCHES: Cell<Vec<usize>> = const { Cell::new(Vec::new()) };
}

impl Matcher {
    fn new<'a>(
        rules: impl Iterator<Item = &'a Compiled>,
        set_name: &str,
    ) -> Result<Self, PolicyError> {
        let mut builder = GlobSetBuilder::new();
        let mut rule_of_glob = Vec::new();
        for (rule, compiled) in rules.enumerate() {
            for glob in &compiled.globs {
                builder.add(glob.clone());
                rule_of_glob.push(rule);
            }
        }
        let set = builder.build().map_err(|error| PolicyError::Compile {
            set_name: set_name.to_owned(),
            error,
        })?;
        Ok(Matcher { set, rule_of_glob })
    }

    /// Returns the index of the last rule with a glob that matches `path`.
    fn last_match(&self, path: &[u8]) -> Option<usize> {
        if self.set.is_empty() {
            return None;
        }
        let candidate = Candidate::from_bytes(path);
        MATCHES.with(|cell| {
            let mut matches = cell.take();
            self.set.matches_candidate_into(&candidate, &mut matches);
            let last = matches.iter().map(|&glob| self.rule_of_glob[glob]).max();
            cell.set(matches);
            last
        })
    }
}

impl Policy {
    pub(crate) fn new(
        origins: Vec<RuleOrigin>,
        hide: &[Compiled],
        rules: &[Vec<(Action, Compiled)>],
        defaults: &[Action],
    ) -> Result<Self, PolicyError> {
        let hide_origins = hide.iter().map(|compiled| compiled.origin).collect();
        let protecting = [Category::Read, Category::Write, Category::Exec, Category::Stat, Category::Attr];
        let restrictive = protecting.iter().flat_map(|category| {
            rules[category.index()].iter().filter(|(action, _)| action.is_restrictive()).map(|(_, compiled)| compiled)
        });
        let guards = hide
            .iter()
            .chain(restrictive)
            .flat_map(|compiled| compiled.globs.iter().map(move |glob| (glob, compiled.origin)))
            .filter_map(|(glob, origin)| {
                let root = crate::pattern::literal_root(glob.glob())?;
                let whole_tree = crate::pattern::is_whole_tree(glob.glob());
                Some(Guard { root, glob: glob.glob().to_owned(), whole_tree, origin })
            })
            .collect();
        let hide = Matcher::new(hide.iter(), "hide")?;
        let mut categories = Vec::with_capacity(Category::ALL.len());
        for category in Category::ALL {
            let category_rules = &rules[category.index()];
            let matcher = Matcher::new(category_rules.iter().map(|(_, c)| c), category.name())?;
            let allowed_roots = category_rules
                .iter()
                .filter(|(action, _)| matches!(action, Action::Allow | Action::Audit))
                .flat_map(|(_, compiled)| compiled.globs.iter())
                .filter_map(|glob| crate::pattern::literal_root(glob.glob()))
                .collect();
            let denied_roots = category_rules
                .iter()
                .filter(|(action, _)| matches!(action, Action::Deny | Action::Kill))
                .flat_map(|(_, compiled)| compiled.globs.iter().map(move |glob| (glob, compiled.origin)))
                .filter_map(|(glob, origin)| Some((crate::pattern::literal_root(glob.glob())?, origin)))
                .collect();
            categories.push(CategoryRules {
                denied_roots,
                allowed_roots,
                default: defaults[category.index()],
                rules: category_rules
                    .iter()
                    .map(|(action, c)| (*action, c.origin))
                    .collect(),
                matcher,
            });
        }
        Ok(Policy {
            origins,
            hide,
            hide_origins,
            guards,
            categories,
        })
    }

    /// Decides an access of `category` to a canonical absolute path or a reserved form such
    /// as `pipe:[1234]`. The last matching rule wins, and without a match the default applies.
    ///
    /// Hide patterns are not consulted here, so callers check [`Policy::hidden`] first.
    pub fn decide(&self, category: Category, path: &[u8]) -> Decision<'_> {
        let rules = &self.categories[category.index()];
        match rules.matcher.last_match(path) {
            Some(rule) => {
                let (action, origin) = rules.rules[rule];
                Decision {
                    action,
                    origin: &self.origins[origin],
                }
            }
            None => Decision {
                action: rules.default,
                origin: &self.origins[category.index()],
            },
        }
    }

    /// Like [`Policy::decide`], but `None` when no rule matches and the default would apply.
    pub fn decide_by_rule(&self, category: Category, path: &[u8]) -> Option<Decision<'_>> {
        let rules = &self.categories[category.index()];
        let rule = rules.matcher.last_match(path)?;
        let (action, origin) = rules.rules[rule];
        Some(Decision { action, origin: &self.origins[origin] })
    }

    /// Returns the origin of a hide pattern that matches the path itself.
    ///
    /// Only the path is tested, not its ancestors: the supervisor tests each component of a
    /// path walk, which hides everything below a hidden directory.
    pub fn hidden(&self, path: &[u8]) -> Option<&RuleOrigin> {
        let rule = self.hide.last_match(path)?;
        Some(&self.origins[self.hide_origins[rule]])
    }

    /// Returns whether any hide pattern exists.
    pub fn has_hide_rules(&self) -> bool {
        !self.hide_origins.is_empty()
    }

    /// Returns whether `category` has any rule besides its default.
    pub fn has_rules(&self, category: Category) -> bool {
        !self.categories[category.index()].rules.is_empty()
    }

    /// Returns the directories (or files) outside which no access of `category` can be
    /// allowed: `/` when the default allows, else the literal roots of the allow and audit
    /// rules. Deny rules inside them cannot be expressed as roots, so this is an upper bound.
    pub fn allowed_roots(&self, category: Category) -> Vec<String> {
        let rules = &self.categories[category.index()];
        if matches!(rules.default, Action::Allow | Action::Audit) {
            return vec!["/".to_owned()];
        }
        rules.allowed_roots.clone()
    }

    /// Returns the literal roots of the deny and kill rules of `category`, with their origins.
    pub fn denied_roots(&self, category: Category) -> Vec<(String, &RuleOrigin)> {
        self.categories[category.index()]
            .denied_roots
            .iter()
            .map(|(root, origin)| (root.clone(), &self.origins[*origin]))
            .collect()
    }

    /// Returns the origin of a rule that may protect something below directory `dir` (a
    /// canonical path): a hide rule, or a deny or kill rule of read, write, exec, stat or attr,
    /// whose literal root lies below `dir`, or whose glob has wildcards after a root that
    /// contains `dir` and may match below it. Moving `dir` would carry what such a rule
    /// protects to names it may not match, so the supervisor refuses the move.
    pub fn restricted_below(&self, dir: &[u8]) -> Option<&RuleOrigin> {
        let mut below = dir.to_vec();
        if below.last() != Some(&b'/') {
            below.push(b'/');
        }
        self.guards
            .iter()
            .find(|guard| {
                let root = guard.root.as_bytes();
                if root.starts_with(&below) {
                    return true;
                }
                let mut root_dir = root.to_vec();
                if root_dir.last() != Some(&b'/') {
                    root_dir.push(b'/');
                }
                below.starts_with(&root_dir) && !guard.whole_tree && crate::pattern::may_match_below(&guard.glob, dir)
            })
            .map(|guard| &self.origins[guard.origin])
    }

    /// Returns the action for accesses of `category` that no rule matches.
    pub fn default_action(&self, category: Category) -> Action {
        self.categories[category.index()].default
    }
}
