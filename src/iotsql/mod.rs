//! AWS IoT SQL: the rule engine's dialect, parsed and evaluated locally (SQL versions
//! 2015-10-08 and 2016-03-23), topic filters, and the substitution templates of rule
//! actions. `parser` builds the syntax tree (one lazy lexer, so a template's `${...}` ends
//! at its brace), `eval` applies AWS's operator type rules and `Undefined`, `functions`
//! holds the SQL functions, `topic` topic filters and matching, `template` the
//! `${expression}` fields. Knows only serde_json (and `diag`'s "did you mean").

mod eval;
mod functions;
mod parser;
pub mod template;
pub mod topic;
mod value;

#[cfg(test)]
mod tests;

pub use functions::EXTERNAL as EXTERNAL_FUNCTIONS;
pub use template::Template;
pub use value::V;

use serde_json::Value as Json;

/// The `awsIotSqlVersion` of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2015_10_08,
    V2016_03_23,
    Beta,
}

impl Version {
    pub fn parse(s: &str) -> Result<Version, String> {
        match s {
            "2015-10-08" => Ok(Version::V2015_10_08),
            "2016-03-23" => Ok(Version::V2016_03_23),
            "beta" => Ok(Version::Beta),
            other => Err(format!(
                "sql_version {other:?} is not an AWS IoT SQL version; use \"2016-03-23\" (recommended) or \"2015-10-08\""
            )),
        }
    }

    fn whole_as_int(self) -> bool {
        self != Version::V2015_10_08
    }
}

/// A syntax error at a byte offset of the statement (or template).
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

impl std::error::Error for SqlError {}

/// A parsed rule statement.
#[derive(Clone, Debug)]
pub struct Statement {
    pub version: Version,
    pub topic_filter: String,
    select: parser::Select,
}

impl Statement {
    pub fn parse(sql: &str, version: Version) -> Result<Statement, SqlError> {
        let select = parser::Parser::new(sql, 0, version).statement()?;
        let parser::From::Topic(filter) = &select.from else {
            unreachable!("a top-level FROM is a topic")
        };
        topic::validate_filter(filter).map_err(|m| SqlError {
            offset: sql.find(filter.as_str()).unwrap_or(0),
            message: m,
        })?;
        Ok(Statement {
            version,
            topic_filter: filter.clone(),
            select,
        })
    }

    /// Runs the statement on one message: whether its topic matches the FROM filter and
    /// the WHERE holds, and the output document.
    pub fn evaluate(&self, ctx: &Context) -> Result<Outcome, String> {
        if !topic::matches(&self.topic_filter, &ctx.topic) {
            return Ok(Outcome {
                topic_matched: false,
                matched: false,
                output: None,
            });
        }
        let doc = ctx.document();
        let env = eval::Env { ctx, doc: &doc };
        let out = eval::select(&self.select, &env)?;
        Ok(Outcome {
            topic_matched: true,
            matched: out.is_some(),
            output: out.and_then(|v| v.to_json()),
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub topic_matched: bool,
    pub matched: bool,
    pub output: Option<Json>,
}

/// One message and what the rule engine knows about it.
#[derive(Clone, Debug)]
pub struct Context {
    pub version: Version,
    pub topic: String,
    pub payload: Vec<u8>,
    pub clientid: Option<String>,
    pub principal: Option<String>,
    pub traceid: Option<String>,
    pub timestamp_ms: i64,
}

impl Context {
    pub fn new(version: Version, topic: &str, payload: &[u8], timestamp_ms: i64) -> Context {
        Context {
            version,
            topic: topic.to_string(),
            payload: payload.to_vec(),
            clientid: None,
            principal: None,
            traceid: None,
            timestamp_ms,
        }
    }

    /// The payload as a document: JSON, or else its raw bytes as text.
    pub fn document(&self) -> V {
        match serde_json::from_slice::<Json>(&self.payload) {
            Ok(j) => V::from_json(&j, self.version.whole_as_int()),
            Err(_) => V::Str(String::from_utf8_lossy(&self.payload).into_owned()),
        }
    }
}

/// Line and column (1-based) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}
