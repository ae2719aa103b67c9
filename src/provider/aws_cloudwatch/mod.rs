//! aws_cloudwatch_metric_alarm and aws_cloudwatch_log_group.
//!
//! PutMetricAlarm is an upsert: a create first checks that no alarm of that name exists,
//! so thingform never silently takes over (and later deletes) someone else's alarm.

pub mod log_group;
pub mod metric_alarm;

pub use log_group::LogGroup;
pub use metric_alarm::MetricAlarm;
