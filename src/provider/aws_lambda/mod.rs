//! aws_lambda_function and aws_lambda_permission.

pub mod function;
pub mod permission;

pub use function::{LambdaFunction, code_changed};
pub use permission::LambdaPermission;
