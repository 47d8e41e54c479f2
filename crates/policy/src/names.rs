//! Access categories and actions, with the names used in profiles and on the command line.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A kind of access that rules are written for.
///
/// Only `Read`, `Write` and `Create` are enforced by the supervisor so far. The other
/// categories are parsed and stored so that profiles written for them stay valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    Read,
    Write,
    Create,
    Stat,
    Delete,
    Rename,
    Attr,
    Exec,
    Chdir,
}

impl Category {
    /// Every category, in the order of [`Category::index`].
    pub const ALL: [Category; 9] = [
        Category::Read,
        Category::Write,
        Category::Create,
        Category::Stat,
        Category::Delete,
        Category::Rename,
        Category::Attr,
        Category::Exec,
        Category::Chdir,
    ];

    /// Returns the category's name in profiles and logs.
    pub fn name(self) -> &'static str {
        match self {
            Category::Read => "read",
            Category::Write => "write",
            Category::Create => "create",
            Category::Stat => "stat",
            Category::Delete => "delete",
            Category::Rename => "rename",
            Category::Attr => "attr",
            Category::Exec => "exec",
            Category::Chdir => "chdir",
        }
    }

    /// Returns the position of the category in [`Category::ALL`], used to index per-category tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Returns the built-in default action: observing and running (read, stat, exec,
    /// chdir) are allowed, every change to the file system is denied.
    pub(crate) fn builtin_default(self) -> Action {
        match self {
            Category::Read | Category::Stat | Category::Exec | Category::Chdir => Action::Allow,
            _ => Action::Deny,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Category {
    type Err = ParseNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|category| category.name() == name)
            .ok_or_else(|| ParseNameError::new("category", name, category_names()))
    }
}

/// The effect of a rule or a default on an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Perform the access.
    Allow,
    /// Fail the access with the usual errno and log it.
    Deny,
    /// Perform the access and log it.
    Audit,
    /// Kill the whole sandbox.
    Kill,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [Action::Allow, Action::Deny, Action::Audit, Action::Kill];

    /// Returns the action's name in profiles and logs.
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Audit => "audit",
            Action::Kill => "kill",
        }
    }

    /// Whether a pattern of a rule with this action must resolve when the profile is loaded.
    ///
    /// A restrictive rule that matches nothing would give a false sense of protection, so
    /// its pattern's directory prefix has to exist.
    pub(crate) fn is_restrictive(self) -> bool {
        matches!(self, Action::Deny | Action::Kill)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = ParseNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|action| action.name() == name)
            .ok_or_else(|| ParseNameError::new("action", name, action_names()))
    }
}

/// A category or action name that is not one of the known names.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unknown {kind} \"{name}\"; expected one of: {expected}")]
pub struct ParseNameError {
    /// "category" or "action".
    pub kind: &'static str,
    /// The name as given.
    pub name: String,
    /// The known names, separated by ", ".
    pub expected: String,
}

impl ParseNameError {
    fn new(kind: &'static str, name: &str, expected: String) -> Self {
        ParseNameError {
            kind,
            name: name.to_owned(),
            expected,
        }
    }
}

/// Returns the category names separated by ", ", for error messages.
pub(crate) fn category_names() -> String {
    Category::ALL.map(Category::name).join(", ")
}

fn action_names() -> String {
    Action::ALL.map(Action::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip() {
        for (index, category) in Category::ALL.into_iter().enumerate() {
            assert_eq!(category.index(), index);
            assert_eq!(category.name().parse::<Category>(), Ok(category));
        }
    }

    #[test]
    fn action_names_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.name().parse::<Action>(), Ok(action));
        }
    }

    #[test]
    fn unknown_category_lists_names() {
        let error = "wrte".parse::<Category>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown category \"wrte\"; expected one of: \
             read, write, create, stat, delete, rename, attr, exec, chdir"
        );
    }

    #[test]
    fn unknown_action_lists_names() {
        let error = "Allow".parse::<Action>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown action \"Allow\"; expected one of: allow, deny, audit, kill"
        );
    }
}
