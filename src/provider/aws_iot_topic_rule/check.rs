//! The checks a topic rule's arguments get before anything is sent to AWS: the SQL
//! statement parses under its `sql_version` (with a valid topic filter in FROM), every
//! substitution template (`${...}`) in an action field parses, a republish topic without
//! templates is a concrete topic, and `error_action` holds exactly one action.

use super::actions::kinds;
use crate::iotsql::{Statement, Template, Version, topic};
use serde_json::{Map, Value as Json};

/// One problem: the argument's path (`["sql"]`, `["s3", "key"]`,
/// `["error_action", "cloudwatch_logs", "log_group_name"]`) and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub path: Vec<String>,
    pub message: String,
}

/// Every problem in a rule's (known) configuration; unknown values are skipped.
pub fn check_rule(config: &Map<String, Json>) -> Vec<Problem> {
    let mut out = vec![];
    let version = match config.get("sql_version").and_then(Json::as_str) {
        Some(v) => match Version::parse(v) {
            Ok(v) => v,
            Err(m) => {
                out.push(problem(&["sql_version"], m));
                Version::V2016_03_23
            }
        },
        None => Version::V2016_03_23,
    };
    if let Some(sql) = config.get("sql").and_then(Json::as_str)
        && let Err(e) = Statement::parse(sql, version)
    {
        out.push(problem(&["sql"], format!("invalid IoT SQL: {e}")));
    }
    actions(config, &[], version, &mut out);
    if let Some(Json::Array(e)) = config.get("error_action")
        && let Some(Json::Object(ea)) = e.first()
    {
        let n: usize = kinds()
            .map(|k| ea.get(k).and_then(Json::as_array).map_or(0, Vec::len))
            .sum();
        if n != 1 {
            out.push(problem(
                &["error_action"],
                format!("error_action takes exactly one action block, found {n}"),
            ));
        }
        actions(ea, &["error_action"], version, &mut out);
    }
    out
}

fn problem(path: &[&str], message: String) -> Problem {
    Problem {
        path: path.iter().map(|s| s.to_string()).collect(),
        message,
    }
}

fn actions(a: &Map<String, Json>, prefix: &[&str], version: Version, out: &mut Vec<Problem>) {
    for kind in kinds() {
        let Some(Json::Array(blocks)) = a.get(kind) else {
            continue;
        };
        for b in blocks {
            if let Json::Object(b) = b {
                let mut path: Vec<&str> = prefix.to_vec();
                path.push(kind);
                fields(b, &path, version, out);
                if kind == "republish"
                    && let Some(t) = b.get("topic").and_then(Json::as_str)
                    && !t.contains("${")
                    && let Err(m) = topic::validate_topic(t)
                {
                    path.push("topic");
                    out.push(problem(&path, format!("invalid republish topic: {m}")));
                }
            }
        }
    }
}

fn fields(b: &Map<String, Json>, path: &[&str], version: Version, out: &mut Vec<Problem>) {
    for (k, v) in b {
        let mut p: Vec<&str> = path.to_vec();
        p.push(k);
        match v {
            Json::String(s) if s.contains("${") => {
                if let Err(e) = Template::parse(s, version) {
                    out.push(problem(&p, format!("invalid substitution template: {e}")));
                }
            }
            Json::Array(items) => {
                for i in items {
                    if let Json::Object(o) = i {
                        fields(o, &p, version, out);
                    }
                }
            }
            Json::Object(o) => {
                for (_, v) in o {
                    if let Json::String(s) = v
                        && s.contains("${")
                        && let Err(e) = Template::parse(s, version)
                    {
                        out.push(problem(&p, format!("invalid substitution template: {e}")));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The problems as one error message (the plan-time check in `plan_local`).
pub fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path.join("."), p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Json) -> Vec<Problem> {
        check_rule(v.as_object().unwrap())
    }

    #[test]
    fn valid_rules_pass() {
        assert_eq!(
            check(json!({
                "sql": "SELECT *, topic(3) AS device_id FROM 'sensors/campus/+/environment' WHERE temp > 38",
                "sql_version": "2016-03-23",
                "s3": [{"bucket_name": "b", "key": "raw/${topic(3)}/${timestamp()}.json", "role_arn": "r"}],
                "republish": [{"topic": "out/${topic(3)}", "role_arn": "r", "qos": 0}],
                "error_action": [{"cloudwatch_logs": [{"log_group_name": "g", "role_arn": "r"}], "s3": []}],
            })),
            vec![]
        );
    }

    #[test]
    fn each_argument_is_checked_and_named() {
        let p = check(json!({
            "sql": "SELECT * FROM 'a/b#'",
            "sql_version": "2016-03-24",
            "dynamodbv2": [{"role_arn": "r", "put_item": [{"table_name": "t-${topic(}"}]}],
            "republish": [{"topic": "out/+/x", "role_arn": "r"}],
            "error_action": [{"sns": [{"target_arn": "${nofn()}", "role_arn": "r"}], "s3": [{"bucket_name": "b", "key": "k", "role_arn": "r"}]}],
        }));
        let paths: Vec<String> = p.iter().map(|p| p.path.join(".")).collect();
        assert_eq!(
            paths,
            [
                "sql_version",
                "sql",
                "republish.topic",
                "dynamodbv2.put_item.table_name",
                "error_action",
                "error_action.sns.target_arn"
            ]
        );
        assert!(p[1].message.contains("whole level"), "{}", p[1].message);
        assert!(
            p[5].message.contains("unknown function"),
            "{}",
            p[5].message
        );
    }
}
