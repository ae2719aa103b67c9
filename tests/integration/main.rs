//! Integration tests against the moto server over HTTP. One binary for all of them (each
//! test binary links the AWS SDKs).

mod calls;
mod harness;

mod batch;
mod campus;
mod campus_lite;
mod checks;
mod compute;
mod crash;
mod dynamodb;
mod engine;
mod examples;
mod fleet;
mod iam_parity;
mod iot;
mod iot_parity;
mod parity;
mod s3;
mod sns;
mod team;
