//! JSON paths that cost nothing until a problem is reported.
//!
//! Compiling a shard visits thousands of values; formatting the path of
//! each (`numbers.4921100000[2].when.time.hours[1]`) just in case it is
//! wrong was a third of a cold isolate's work. These build the path as a
//! chain of references and write it out only when displayed.

use std::fmt;

/// `parent.name`
#[derive(Clone, Copy)]
pub struct Field<'a>(pub &'a dyn fmt::Display, pub &'a str);

/// `parent[index]`
#[derive(Clone, Copy)]
pub struct Index<'a>(pub &'a dyn fmt::Display, pub usize);

/// `parent[index]` when the values are written as a list, else `parent`
/// (a single value written without brackets has no index).
#[derive(Clone, Copy)]
pub struct Item<'a> {
    pub parent: &'a dyn fmt::Display,
    pub listed: bool,
    pub index: usize,
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl fmt::Display for Index<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

impl fmt::Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.listed {
            write!(f, "{}[{}]", self.parent, self.index)
        } else {
            self.parent.fmt(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_only_when_displayed() {
        let root = "numbers.4921100000";
        let rule = Index(&root, 2);
        let when = Field(&rule, "when");
        let hours = Field(&when, "hours");
        assert_eq!(
            Item {
                parent: &hours,
                listed: true,
                index: 1
            }
            .to_string(),
            "numbers.4921100000[2].when.hours[1]"
        );
        assert_eq!(
            Item {
                parent: &hours,
                listed: false,
                index: 0
            }
            .to_string(),
            "numbers.4921100000[2].when.hours"
        );
    }
}
