//! What `thingform test` needs beyond plan and apply: the test file language
//! (`file.rs`), a message run through the deployed topic rules with every action
//! performed (`pipeline.rs`), and Lambda functions run locally behind the Lambda
//! Runtime API (`lambda.rs`).
//!
//! *Invariant:* knows no terminal, no state backend and no plan: the CLI's test runner
//! hands it parsed files' blocks, the deployed rules' attributes and a configured provider.

pub mod file;
pub mod lambda;
pub mod pipeline;
