//! "No such object": one table of the AWS error codes that mean it, per service, and
//! [`absent`], which turns such an error into `Ok(None)` (reads) or nothing (deletes).

use super::client::aws_error;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The AWS service an SDK error came from (the codes that mean "not found" differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    DynamoDb,
    Sns,
    Iot,
    IotData,
    Lambda,
    Iam,
    CloudWatch,
    Logs,
}

impl Service {
    /// The error codes with which this service says the object asked for does not exist.
    pub fn not_found_codes(self) -> &'static [&'static str] {
        match self {
            Service::S3 => &[
                "NoSuchBucket",
                "NoSuchKey",
                "NotFound",
                "NoSuchTagSet",
                "NoSuchTagSetError",
                "NoSuchLifecycleConfiguration",
            ],
            Service::Sns => &["NotFound"],
            Service::Iam => &["NoSuchEntity"],
            Service::CloudWatch => &["ResourceNotFound", "ResourceNotFoundException"],
            Service::DynamoDb
            | Service::Iot
            | Service::IotData
            | Service::Lambda
            | Service::Logs => &["ResourceNotFoundException"],
        }
    }

    /// Whether a bare HTTP 404 (no error code) means "not found". Only S3 answers HEAD
    /// requests without a body; elsewhere a bare 404 is an emulator lacking the operation.
    fn bare_404_is_not_found(self) -> bool {
        self == Service::S3
    }
}

/// The HTTP status AWS answered with, from the raw response (None: no response at all).
pub fn http_status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// Whether `e` says the object does not exist.
pub fn is_not_found<E: ProvideErrorMetadata>(svc: Service, e: &SdkError<E, HttpResponse>) -> bool {
    match e.code() {
        Some(code) => svc.not_found_codes().contains(&code),
        None => svc.bare_404_is_not_found() && http_status(e) == Some(404),
    }
}

/// Whether an error already turned into a message (by [`aws_error`]) said "not found".
/// For the few places where a helper returns `anyhow::Error`.
pub fn is_not_found_message(svc: Service, e: &anyhow::Error) -> bool {
    let m = format!("{e:#}");
    svc.not_found_codes()
        .iter()
        .any(|c| m.contains(&format!(": {c}:")))
}

/// The result of an SDK call, with "not found" as `Ok(None)`; any other error becomes
/// a message naming `op`.
pub fn absent<T, E>(
    svc: Service,
    op: &str,
    r: Result<T, SdkError<E, HttpResponse>>,
) -> anyhow::Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(svc, &e) => Ok(None),
        Err(e) => Err(aws_error(op, e)),
    }
}

/// A delete: done when the call succeeds or the object is already gone.
pub fn gone<T, E>(
    svc: Service,
    op: &str,
    r: Result<T, SdkError<E, HttpResponse>>,
) -> anyhow::Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    absent(svc, op, r).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    #[derive(Debug)]
    struct Fail(ErrorMetadata);
    impl std::fmt::Display for Fail {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?}", self.0.code())
        }
    }
    impl std::error::Error for Fail {}
    impl ProvideErrorMetadata for Fail {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: Option<&str>, status: u16) -> SdkError<Fail, HttpResponse> {
        let mut meta = ErrorMetadata::builder();
        if let Some(c) = code {
            meta = meta.code(c).message("m");
        }
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(Fail(meta.build()), raw)
    }

    #[test]
    fn each_service_has_its_own_codes() {
        let e = service_error(Some("NoSuchEntity"), 404);
        assert!(is_not_found(Service::Iam, &e));
        assert!(!is_not_found(Service::Iot, &e));
        let e = service_error(Some("ResourceNotFoundException"), 400);
        assert!(is_not_found(Service::Lambda, &e));
        assert!(is_not_found(Service::DynamoDb, &e));
        assert!(!is_not_found(Service::Sns, &e));
        let e = service_error(Some("AccessDenied"), 403);
        assert!(!is_not_found(Service::S3, &e));
    }

    #[test]
    fn a_bare_404_is_not_found_only_for_s3() {
        let e = service_error(None, 404);
        assert!(is_not_found(Service::S3, &e));
        assert!(!is_not_found(Service::Iot, &e));
        assert!(!is_not_found(Service::S3, &service_error(None, 500)));
    }

    #[test]
    fn absent_turns_not_found_into_none_and_keeps_other_errors() {
        let r: Result<u8, _> = Err(service_error(Some("NotFound"), 404));
        assert!(
            absent(Service::Sns, "GetTopicAttributes", r)
                .unwrap()
                .is_none()
        );
        let r: Result<u8, _> = Err(service_error(Some("Throttling"), 400));
        let err = absent(Service::Sns, "GetTopicAttributes", r).unwrap_err();
        assert!(
            err.to_string().contains("GetTopicAttributes: Throttling"),
            "{err}"
        );
        assert!(!is_not_found_message(Service::Sns, &err));
        let r: Result<u8, SdkError<Fail, HttpResponse>> = Ok(7);
        assert_eq!(absent(Service::Sns, "x", r).unwrap(), Some(7));
        let err = aws_error(
            "UpdateThingType",
            service_error(Some("ResourceNotFoundException"), 404),
        );
        assert!(is_not_found_message(Service::Iot, &err));
    }
}
