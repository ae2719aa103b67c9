//! ARN syntax, checked at plan time where the AWS provider's schema declares an attribute
//! an ARN (its `verify.ValidARN`): `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, the
//! partition `aws` or `aws-*`, a service and a resource, the region (when present) like
//! `eu-west-1`, the account (when present) 12 digits or `aws`.

/// `Err` with a message naming `attr` when `value` is not an ARN.
pub fn check(attr: &str, value: &str) -> anyhow::Result<()> {
    why_invalid(value).map_or(Ok(()), |why| {
        Err(anyhow::anyhow!(
            "{attr}: {value:?} is an invalid ARN: {why} (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, e.g. arn:aws:iot:eu-west-1:123456789012:rule/name)"
        ))
    })
}

fn why_invalid(value: &str) -> Option<&'static str> {
    let Some(rest) = value.strip_prefix("arn:") else {
        return Some("it does not start with \"arn:\"");
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, service, region, account, resource] = parts[..] else {
        return Some("it has fewer than six colon-separated sections");
    };
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let partition_ok = partition
        .strip_prefix("aws")
        .is_some_and(|t| t.is_empty() || (t.starts_with('-') && t.split('-').skip(1).all(lower)));
    if !partition_ok {
        return Some("the partition is not aws or aws-*");
    }
    if service.is_empty() {
        return Some("the service is empty");
    }
    // A region: two letters, one or more -words, then -digits (eu-west-1, us-gov-east-1).
    let region_ok = region.is_empty() || {
        let s: Vec<&str> = region.split('-').collect();
        s.len() >= 3
            && s[0].len() == 2
            && lower(s[0])
            && s[1..s.len() - 1].iter().all(|w| lower(w))
            && (1..=2).contains(&s[s.len() - 1].len())
            && s[s.len() - 1].bytes().all(|b| b.is_ascii_digit())
    };
    if !region_ok {
        return Some("the region is not a region name");
    }
    let account_ok = account.is_empty()
        || matches!(account, "aws" | "aws-managed" | "third-party")
        || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    if !account_ok {
        return Some("the account is not a 12-digit account id");
    }
    if resource.is_empty() {
        return Some("the resource is empty");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_as_the_aws_provider_accepts_them() {
        for ok in [
            "arn:aws:iot:eu-west-1:123456789012:rule/campus_ingest",
            "arn:aws:s3:::bucket/key",
            "arn:aws-us-gov:sns:us-gov-east-1:123456789012:topic",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/x:*",
        ] {
            assert!(check("source_arn", ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("not-an-arn", "does not start"),
            ("arn:aws:iot", "fewer than six"),
            ("arn:amazon:iot:eu-west-1:123456789012:rule/x", "partition"),
            ("arn:aws::eu-west-1:123456789012:rule/x", "service"),
            ("arn:aws:iot:Europe:123456789012:rule/x", "region"),
            ("arn:aws:iot:eu-west-1:1234:rule/x", "account"),
            ("arn:aws:iot:eu-west-1:123456789012:", "resource"),
        ] {
            let e = check("source_arn", bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("source_arn"), "{bad}: {e}");
        }
    }
}
