//! What is wrong with a document, and where: `numbers.4921100000[1].then.dial.numbers[2]`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing wrong (or suspicious) in a document, at a JSON path:
/// `{"path":"numbers.4921100000[1].then.dial.numbers[2]","message":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Collects problems while a document is compiled: every part of the
/// compiler reports into one, so all problems come out at once.
#[derive(Debug, Default)]
pub struct Checker {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

impl Checker {
    pub fn error(&mut self, path: impl fmt::Display, message: impl fmt::Display) {
        self.errors.push(Problem {
            path: path.to_string(),
            message: message.to_string(),
        });
    }

    pub fn warning(&mut self, path: impl fmt::Display, message: impl fmt::Display) {
        self.warnings.push(Problem {
            path: path.to_string(),
            message: message.to_string(),
        });
    }
}

/// Why a document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentError {
    /// Not JSON, or JSON of the wrong shape (the first mismatch).
    Syntax(Problem),
    /// Well-formed, but with values that cannot be used (all of them).
    Invalid(Vec<Problem>),
}

impl DocumentError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            DocumentError::Syntax(problem) => std::slice::from_ref(problem),
            DocumentError::Invalid(problems) => problems,
        }
    }
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems().iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            problem.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for DocumentError {}

/// Deserializes JSON, naming the JSON path of the first mismatch.
///
/// Paths need `serde_path_to_error`, which wraps every visitor: a third of
/// the worker's wasm. They matter where people read them — `check`,
/// `publish`, `/simulate`'s caller — which all run the host build or see
/// documents the CLI checked. The worker (wasm32) only reads what was
/// published, so it reports line and column instead.
pub fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, DocumentError> {
    let syntax = |path: String, message: String| {
        DocumentError::Syntax(Problem {
            // serde_path_to_error writes the root as `.` and an unknown spot as `?`.
            path: if path == "." || path == "?" {
                String::new()
            } else {
                path
            },
            message,
        })
    };
    let mut deserializer = serde_json::Deserializer::from_str(json);
    #[cfg(not(target_arch = "wasm32"))]
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        syntax(path, error.into_inner().to_string())
    })?;
    #[cfg(target_arch = "wasm32")]
    let value: T = T::deserialize(&mut deserializer)
        .map_err(|error| syntax(String::new(), error.to_string()))?;
    deserializer
        .end()
        .map_err(|error| syntax(String::new(), error.to_string()))?;
    Ok(value)
}
