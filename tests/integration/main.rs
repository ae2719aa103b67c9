//! Integration tests against the moto server over HTTP. One binary for all of them (each
//! test binary links the AWS SDKs).

mod calls;
mod harness;
mod proxy;

mod batch;
mod campus;
mod campus_lite;
mod checks;
mod compute;
mod corpus;
mod crash;
mod dynamodb;
mod encryption;
mod engine;
mod examples;
mod faults;
mod fleet;
mod iam_parity;
mod iot;
mod iot_parity;
mod modules;
mod parity;
mod recover;
mod rules;
mod s3;
mod sns;
mod team;
mod terminal;
mod test_command;
