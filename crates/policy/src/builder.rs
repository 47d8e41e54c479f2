//! Collecting rules from profiles and the command line into a [`Policy`].

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use globset::Glob;

use crate::error::{Location, PolicyError, Problem};
use crate::names::{Action, Category, ParseNameError};
use crate::origin::RuleOrigin;
use crate::pattern::{compile_pattern, PatternUse};
use crate::policy::Policy;
use crate::profile::{
    builtin_names, builtin_text, closest_name, parse, ProfileSource, RuleTable, Text, TextList,
};
use crate::vars::Variables;

/// The compiled globs of one written pattern and the index of its origin.
pub(crate) struct Compiled {
    pub(crate) globs: Vec<Glob>,
    pub(crate) origin: usize,
}

/// Collects rules in order: each profile's includes first, then its own rules, then the
/// command-line rules in the order they are added.
pub struct PolicyBuilder {
    vars: Variables,
    /// Every rule's origin. The first entries are the defaults, in [`Category::ALL`] order.
    origins: Vec<RuleOrigin>,
    hide: Vec<Compiled>,
    /// Per category, in [`Category::ALL`] order.
    rules: Vec<Vec<(Action, Compiled)>>,
    defaults: Vec<Action>,
}

/// A profile being loaded, for include cycle detection.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ProfileId {
    /// A file, by canonical path.
    File(PathBuf),
    Builtin(String),
}

/// One element of the chain of profiles being loaded.
struct Including {
    id: ProfileId,
    /// The profile's name as written, for the cycle message.
    name: String,
}

impl PolicyBuilder {
    /// Starts a policy with the built-in defaults (read, stat, exec and chdir allowed,
    /// everything else denied)
    /// and no rules. Patterns are expanded with `vars`.
    pub fn new(vars: Variables) -> Self {
        PolicyBuilder {
            vars,
            origins: Category::ALL
                .map(|category| RuleOrigin::Default { category })
                .to_vec(),
            hide: Vec::new(),
            rules: Category::ALL.map(|_| Vec::new()).into_iter().collect(),
            defaults: Category::ALL.map(Category::builtin_default).to_vec(),
        }
    }

    /// Loads a profile file, its includes first.
    pub fn load_profile(&mut self, path: &Path) -> Result<(), PolicyError> {
        let text = fs::read_to_string(path).map_err(|error| PolicyError::ReadProfile {
            path: path.to_owned(),
            error,
        })?;
        let id = ProfileId::File(fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()));
        let mut chain = vec![Including {
            id,
            name: path.display().to_string(),
        }];
        self.apply_profile(&ProfileSource::File(path.to_owned()), &text, &mut chain)
    }

    /// Loads a built-in profile such as `default`.
    pub fn load_builtin(&mut self, name: &str) -> Result<(), PolicyError> {
        let text = builtin_text(name).ok_or_else(|| PolicyError::UnknownBuiltin {
            name: name.to_owned(),
            known: builtin_names(),
        })?;
        let id = ProfileId::Builtin(name.to_owned());
        let mut chain = vec![Including {
            id,
            name: format!("builtin:{name}"),
        }];
        self.apply_profile(&ProfileSource::Builtin(name.to_owned()), text, &mut chain)
    }

    /// Loads `builtin:NAME` as a built-in profile and anything else as a file path.
    pub fn load_profile_arg(&mut self, arg: &str) -> Result<(), PolicyError> {
        match arg.strip_prefix("builtin:") {
            Some(name) => self.load_builtin(name),
            None => self.load_profile(Path::new(arg)),
        }
    }

    /// Adds a command-line rule. `option` names the option that gave it, such as `--deny-read`.
    pub fn add_rule(
        &mut self,
        action: Action,
        category: Category,
        pattern: &str,
        option: &str,
    ) -> Result<(), PolicyError> {
        let globs = compile_pattern(pattern, &self.vars, PatternUse::Rule(action))
            .map_err(|problem| problem.at(command_line(option, pattern)))?;
        let origin = self.push_origin(RuleOrigin::CommandLine {
            option: option.to_owned(),
            pattern: pattern.to_owned(),
        });
        self.rules[category.index()].push((action, Compiled { globs, origin }));
        Ok(())
    }

    /// Adds a command-line hide pattern. `option` names the option that gave it, such as `--hide`.
    pub fn add_hide(&mut self, pattern: &str, option: &str) -> Result<(), PolicyError> {
        let globs = compile_pattern(pattern, &self.vars, PatternUse::Hide)
            .map_err(|problem| problem.at(command_line(option, pattern)))?;
        let origin = self.push_origin(RuleOrigin::CommandLine {
            option: option.to_owned(),
            pattern: pattern.to_owned(),
        });
        self.hide.push(Compiled { globs, origin });
        Ok(())
    }

    /// Sets the action for accesses of `category` that no rule matches, replacing the
    /// default set by earlier profiles.
    pub fn set_default(&mut self, category: Category, action: Action) {
        self.defaults[category.index()] = action;
    }

    /// Compiles the collected rules into one glob set per category.
    pub fn build(self) -> Result<Policy, PolicyError> {
        Policy::new(self.origins, &self.hide, &self.rules, &self.defaults)
    }

    fn push_origin(&mut self, origin: RuleOrigin) -> usize {
        self.origins.push(origin);
        self.origins.len() - 1
    }

    fn apply_profile(
        &mut self,
        source: &ProfileSource,
        text: &str,
        chain: &mut Vec<Including>,
    ) -> Result<(), PolicyError> {
        let profile = parse(source, text)?;
        for include in &profile.include.items {
            self.apply_include(source, text, include, chain)?;
        }
        for (category, action) in &profile.defaults {
            let category_at = source.location(text, category.span().start);
            let category = parse_name::<Category>(category.get_ref(), category_at)?;
            let action_at = source.location(text, action.span().start);
            self.defaults[category.index()] = parse_name::<Action>(action.get_ref(), action_at)?;
        }
        for pattern in &profile.hide.items {
            let globs = compile_pattern(&pattern.value, &self.vars, PatternUse::Hide)
                .map_err(|problem| problem.at(source.location(text, pattern.span.start)))?;
            let origin = self.push_origin(source.origin(text, pattern.span.start));
            self.hide.push(Compiled { globs, origin });
        }
        for rule in &profile.rules {
            self.apply_rule(source, text, rule.get_ref())?;
        }
        Ok(())
    }

    fn apply_include(
        &mut self,
        source: &ProfileSource,
        text: &str,
        include: &Text,
        chain: &mut Vec<Including>,
    ) -> Result<(), PolicyError> {
        let location = source.location(text, include.span.start);
        let (included, included_text, id) =
            open_include(source, &include.value).map_err(|problem| problem.at(location.clone()))?;

        if let Some(start) = chain.iter().position(|including| including.id == id) {
            let mut names: Vec<&str> = chain[start..].iter().map(|i| i.name.as_str()).collect();
            let name = included.to_string();
            names.push(&name);
            let problem = Problem::new(format!("include cycle: {}", names.join(" -> ")))
                .with_hint("remove one of these includes");
            return Err(problem.at(location));
        }

        chain.push(Including {
            id,
            name: included.to_string(),
        });
        let result = self.apply_profile(&included, &included_text, chain);
        chain.pop();
        result
    }

    fn apply_rule(
        &mut self,
        source: &ProfileSource,
        text: &str,
        rule: &RuleTable,
    ) -> Result<(), PolicyError> {
        let location = |offset: usize| source.location(text, offset);
        let action =
            parse_name::<Action>(rule.action.get_ref(), location(rule.action.span().start))?;

        let mut categories = Vec::new();
        for name in non_empty(&rule.access, "access", "list at least one category")
            .map_err(|problem| problem.at(location(rule.access.span.start)))?
        {
            let category = parse_name::<Category>(&name.value, location(name.span.start))?;
            if !categories.contains(&category) {
                categories.push(category);
            }
        }

        for pattern in non_empty(&rule.paths, "paths", "list at least one pattern")
            .map_err(|problem| problem.at(location(rule.paths.span.start)))?
        {
            let globs = compile_pattern(&pattern.value, &self.vars, PatternUse::Rule(action))
                .map_err(|problem| problem.at(location(pattern.span.start)))?;
            let origin = self.push_origin(source.origin(text, pattern.span.start));
            for category in &categories {
                let compiled = Compiled {
                    globs: globs.clone(),
                    origin,
                };
                self.rules[category.index()].push((action, compiled));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyBuilder")
            .field("hide", &self.hide.len())
            .field(
                "rules",
                &self.rules.iter().map(Vec::len).collect::<Vec<_>>(),
            )
            .field("defaults", &self.defaults)
            .finish_non_exhaustive()
    }
}

/// Reads the profile named by an include entry of `source`.
fn open_include(
    source: &ProfileSource,
    entry: &str,
) -> Result<(ProfileSource, String, ProfileId), Problem> {
    if let Some(name) = entry.strip_prefix("builtin:") {
        let text = builtin_text(name).ok_or_else(|| {
            Problem::new(format!(
                "unknown built-in profile \"{name}\"; expected one of: {}",
                builtin_names()
            ))
        })?;
        let id = ProfileId::Builtin(name.to_owned());
        return Ok((ProfileSource::Builtin(name.to_owned()), text.to_owned(), id));
    }

    let ProfileSource::File(including) = source else {
        return Err(Problem::new(
            "a built-in profile can include only built-in profiles",
        ));
    };
    // Relative includes are relative to the including file's directory.
    let path = including.parent().unwrap_or(Path::new("")).join(entry);
    let text = fs::read_to_string(&path).map_err(|error| {
        Problem::new(format!(
            "failed to read included profile {}: {error}",
            path.display()
        ))
    })?;
    let id = ProfileId::File(fs::canonicalize(&path).unwrap_or_else(|_| path.clone()));
    Ok((ProfileSource::File(path), text, id))
}

fn non_empty<'a>(list: &'a TextList, key: &str, hint: &str) -> Result<&'a [Text], Problem> {
    if list.items.is_empty() {
        return Err(Problem::new(format!("{key} is empty")).with_hint(hint));
    }
    Ok(&list.items)
}

/// Parses a category or action name written in a profile.
fn parse_name<T>(name: &str, location: Location) -> Result<T, PolicyError>
where
    T: std::str::FromStr<Err = ParseNameError>,
{
    name.parse::<T>().map_err(|error| {
        let known = error.expected.split(", ").collect::<Vec<_>>();
        let problem = Problem::new(error.to_string());
        let problem = match closest_name(name, known) {
            Some(close) => problem.with_hint(format!("did you mean \"{close}\"?")),
            None => problem,
        };
        problem.at(location)
    })
}

fn command_line(option: &str, pattern: &str) -> Location {
    Location::CommandLine {
        option: option.to_owned(),
        value: pattern.to_owned(),
    }
}

/// Loads and compiles one profile file, for `cordon check`.
pub fn check_profile(path: &Path, vars: Variables) -> Result<(), PolicyError> {
    let mut builder = PolicyBuilder::new(vars);
    builder.load_profile(path)?;
    builder.build().map(drop)
}
