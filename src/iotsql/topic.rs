//! MQTT topic filters as AWS IoT accepts them in a rule's FROM clause: `+` and `#` only
//! as whole levels, `#` only last, at most AWS's 8 levels (7 slashes) and 256 bytes.

/// AWS IoT's limit on forward slashes in a topic or topic filter.
pub const MAX_SLASHES: usize = 7;
/// AWS IoT's limit on a topic's length in bytes (UTF-8).
pub const MAX_BYTES: usize = 256;

/// Why a topic filter is invalid, or `Ok`.
pub fn validate_filter(f: &str) -> Result<(), String> {
    if f.is_empty() {
        return Err("the topic filter is empty".into());
    }
    if f.len() > MAX_BYTES {
        return Err(format!(
            "the topic filter is {} bytes; AWS IoT allows at most {MAX_BYTES}",
            f.len()
        ));
    }
    let slashes = f.matches('/').count();
    if slashes > MAX_SLASHES {
        return Err(format!(
            "the topic filter {f:?} has {} levels; AWS IoT allows at most {} (7 slashes)",
            slashes + 1,
            MAX_SLASHES + 1
        ));
    }
    let levels: Vec<&str> = f.split('/').collect();
    for (i, l) in levels.iter().enumerate() {
        if l.contains('#') && (*l != "#" || i + 1 != levels.len()) {
            return Err(format!(
                "`#` in {f:?} must be a whole level and the last one (as in 'sensors/#')"
            ));
        }
        if l.contains('+') && *l != "+" {
            return Err(format!(
                "`+` in {f:?} must be a whole level (as in 'sensors/+/data'), not part of {l:?}"
            ));
        }
        if l.contains('\0') {
            return Err(format!("the topic filter {f:?} contains a NUL character"));
        }
    }
    Ok(())
}

/// Why a concrete topic (one a message is published to) is invalid, or `Ok`.
pub fn validate_topic(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("the topic is empty".into());
    }
    if t.contains('+') || t.contains('#') {
        return Err(format!(
            "{t:?} contains a wildcard; messages are published to concrete topics"
        ));
    }
    if t.len() > MAX_BYTES {
        return Err(format!("the topic is longer than {MAX_BYTES} bytes"));
    }
    if t.matches('/').count() > MAX_SLASHES {
        return Err(format!(
            "the topic {t:?} has more than {} levels",
            MAX_SLASHES + 1
        ));
    }
    Ok(())
}

/// MQTT matching: `+` one level, `#` this level and everything below (also the parent).
pub fn matches(filter: &str, topic: &str) -> bool {
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    // Topics beginning with `$` are not matched by filters beginning with a wildcard.
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    for (i, level) in f.iter().enumerate() {
        if *level == "#" {
            return true;
        }
        match t.get(i) {
            None => return false,
            Some(x) if *level == "+" || level == x => {}
            Some(_) => return false,
        }
    }
    f.len() == t.len()
}
