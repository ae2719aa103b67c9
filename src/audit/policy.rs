//! IAM and IoT policy documents as the audit reads them: statements with their effect,
//! actions and resources, and AWS's glob matching (`*`, `?`; actions case-insensitive).
//! Conditions are not evaluated: an Allow with a condition still counts as an Allow
//! (the audit errs towards reporting a grant, as Device Defender does).

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
}

fn strings(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::String(s)) => vec![s.clone()],
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// The statements of a policy document (a JSON string or value); `None` when it is not
/// a readable document (unknown until apply, or not JSON).
pub fn parse(doc: &Json) -> Option<Vec<Statement>> {
    let v: Json = match doc {
        Json::String(s) => serde_json::from_str(s).ok()?,
        Json::Object(_) => doc.clone(),
        _ => return None,
    };
    let sts = match v.get("Statement")? {
        Json::Array(a) => a.clone(),
        o @ Json::Object(_) => vec![o.clone()],
        _ => return None,
    };
    Some(
        sts.iter()
            .map(|s| Statement {
                allow: s.get("Effect").and_then(Json::as_str) == Some("Allow"),
                actions: strings(s.get("Action")),
                not_actions: strings(s.get("NotAction")),
                resources: strings(s.get("Resource")),
                not_resources: strings(s.get("NotResource")),
            })
            .collect(),
    )
}

/// AWS's policy glob: `*` any run of characters, `?` one character.
pub fn glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Statement {
    pub fn covers_action(&self, action: &str) -> bool {
        if !self.not_actions.is_empty() {
            return !self.not_actions.iter().any(|a| glob(a, action, true));
        }
        self.actions.iter().any(|a| glob(a, action, true))
    }

    pub fn covers_resource(&self, arn: &str) -> bool {
        if !self.not_resources.is_empty() {
            return !self.not_resources.iter().any(|r| glob(r, arn, false));
        }
        self.resources.iter().any(|r| glob(r, arn, false))
    }
}

/// Whether the statements allow `action` on `arn` (an explicit Deny wins).
pub fn allows(sts: &[Statement], action: &str, arn: &str) -> bool {
    let hit = |s: &&Statement| s.covers_action(action) && s.covers_resource(arn);
    sts.iter().filter(|s| !s.allow).find(hit).is_none()
        && sts.iter().filter(|s| s.allow).any(|s| hit(&s))
}

/// The service prefix of an action (`s3` of `s3:PutObject`; `*` for `*`).
pub fn service_of(action: &str) -> String {
    action.split(':').next().unwrap_or("*").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_and_decisions() {
        assert!(glob(
            "arn:aws:s3:::b/raw/*",
            "arn:aws:s3:::b/raw/x/y.json",
            false
        ));
        assert!(!glob("arn:aws:s3:::b/raw/*", "arn:aws:s3:::b/other", false));
        assert!(glob("S3:Put*", "s3:PutObject", true));
        assert!(glob("a?c", "abc", false) && !glob("a?c", "ac", false));
        let sts = parse(&json!(
            r#"{"Statement":[
            {"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}]}"#
        ))
        .unwrap();
        assert!(allows(&sts, "s3:PutObject", "arn:aws:s3:::b/raw/1"));
        assert!(!allows(&sts, "s3:PutObject", "arn:aws:s3:::b/secret/1"));
        assert!(!allows(&sts, "s3:GetObject", "arn:aws:s3:::b/raw/1"));
        assert_eq!(parse(&Json::Null), None);
    }
}
