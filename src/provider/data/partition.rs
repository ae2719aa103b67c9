//! `data "aws_partition"`: the partition of the provider's region, its DNS suffix and
//! reverse DNS prefix. Computed from the region alone, so it is known at plan time.

use super::super::attrs::Attrs;
use super::super::client::Provider;
use super::super::schema::{Block, Schema, out};
use super::DataSourceType;
use async_trait::async_trait;
use serde_json::json;

/// A partition: its identifier, DNS suffix and reverse DNS prefix.
#[derive(Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: &'static str,
    pub dns_suffix: &'static str,
    pub reverse_dns_prefix: &'static str,
}

/// Region prefixes of the partitions other than `aws`, longest first (`us-isob-` before
/// `us-iso-`), from AWS's published partition table.
const PARTITIONS: &[(&str, PartitionInfo)] = &[
    ("us-isob-", p("aws-iso-b", "sc2s.sgov.gov", "gov.sgov.sc2s")),
    (
        "us-isof-",
        p("aws-iso-f", "csp.hci.ic.gov", "gov.ic.hci.csp"),
    ),
    (
        "eu-isoe-",
        p("aws-iso-e", "cloud.adc-e.uk", "uk.adc-e.cloud"),
    ),
    ("us-iso-", p("aws-iso", "c2s.ic.gov", "gov.ic.c2s")),
    ("us-gov-", p("aws-us-gov", "amazonaws.com", "com.amazonaws")),
    ("eusc-", p("aws-eusc", "amazonaws.eu", "eu.amazonaws")),
    ("cn-", p("aws-cn", "amazonaws.com.cn", "cn.com.amazonaws")),
];

const fn p(
    partition: &'static str,
    dns_suffix: &'static str,
    reverse_dns_prefix: &'static str,
) -> PartitionInfo {
    PartitionInfo {
        partition,
        dns_suffix,
        reverse_dns_prefix,
    }
}

const COMMERCIAL: PartitionInfo = p("aws", "amazonaws.com", "com.amazonaws");

/// The partition a region belongs to (`aws` for every commercial region).
pub fn partition_of(region: &str) -> &'static PartitionInfo {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, info)| info)
        .unwrap_or(&COMMERCIAL)
}

pub struct Partition {
    schema: Schema,
}

impl Partition {
    pub(super) fn new() -> Self {
        Partition {
            schema: Schema {
                id_attr: "partition",
                block: Block::new()
                    .attr(out("partition"))
                    .attr(out("dns_suffix"))
                    .attr(out("reverse_dns_prefix"))
                    .attr(out("id")),
            },
        }
    }
}

#[async_trait]
impl DataSourceType for Partition {
    fn name(&self) -> &'static str {
        "aws_partition"
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    async fn read(&self, p: &Provider, _cfg: &Attrs) -> anyhow::Result<Attrs> {
        let info = partition_of(&p.region);
        let mut a = Attrs::new();
        a.insert("id".into(), json!(info.partition));
        a.insert("partition".into(), json!(info.partition));
        a.insert("dns_suffix".into(), json!(info.dns_suffix));
        a.insert("reverse_dns_prefix".into(), json!(info.reverse_dns_prefix));
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_their_partitions() {
        for (region, partition, suffix, reverse) in [
            ("eu-west-1", "aws", "amazonaws.com", "com.amazonaws"),
            ("us-east-1", "aws", "amazonaws.com", "com.amazonaws"),
            (
                "cn-north-1",
                "aws-cn",
                "amazonaws.com.cn",
                "cn.com.amazonaws",
            ),
            (
                "us-gov-west-1",
                "aws-us-gov",
                "amazonaws.com",
                "com.amazonaws",
            ),
            ("us-iso-east-1", "aws-iso", "c2s.ic.gov", "gov.ic.c2s"),
            (
                "us-isob-east-1",
                "aws-iso-b",
                "sc2s.sgov.gov",
                "gov.sgov.sc2s",
            ),
            (
                "eu-isoe-west-1",
                "aws-iso-e",
                "cloud.adc-e.uk",
                "uk.adc-e.cloud",
            ),
            (
                "us-isof-south-1",
                "aws-iso-f",
                "csp.hci.ic.gov",
                "gov.ic.hci.csp",
            ),
        ] {
            let got = partition_of(region);
            assert_eq!(
                (got.partition, got.dns_suffix, got.reverse_dns_prefix),
                (partition, suffix, reverse),
                "{region}"
            );
        }
    }
}
