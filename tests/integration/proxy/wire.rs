//! HTTP/1.1 as the SDKs speak it to the proxy, and AWS's error answers in each
//! protocol's exact shape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// One request from thingform, as read off the wire.
pub struct Request {
    pub method: String,
    /// The path without the query string, percent-decoded.
    pub path: String,
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The head exactly as received (request line and headers, without the blank line).
    pub head: String,
    /// The body as framed on the wire (chunks kept when chunked).
    pub raw_body: Vec<u8>,
    /// The body's content (chunks joined).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query or form parameter (`Action=...&RoleName=...`), decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        let body = std::str::from_utf8(&self.body).unwrap_or("");
        form(&self.query)
            .chain(form(body))
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as JSON (REST-JSON and JSON protocols), or `null`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The signing name from SigV4's credential scope (`.../eu-west-1/iot/aws4_request`).
    pub fn service(&self) -> String {
        let auth = self.header("authorization").unwrap_or("");
        auth.split("Credential=")
            .nth(1)
            .and_then(|c| c.split(',').next())
            .and_then(|scope| scope.split('/').nth(3))
            .unwrap_or("")
            .to_string()
    }

    /// The wire protocol, which decides the shape of an error.
    pub fn protocol(&self) -> Protocol {
        let service = self.service();
        if self.header("x-amz-target").is_some() {
            Protocol::Json(service)
        } else if self.header("smithy-protocol") == Some("rpc-v2-cbor") {
            Protocol::Cbor
        } else if self.body.starts_with(b"Action=") || self.query.starts_with("Action=") {
            Protocol::Query
        } else if service == "s3" {
            Protocol::S3
        } else {
            Protocol::RestJson(service)
        }
    }

    /// The AWS operation: from X-Amz-Target, `Action=`, `/operation/Name`, or the REST
    /// path (the operations the rules need; others as `METHOD /first-segment`).
    pub fn operation(&self) -> String {
        if let Some(t) = self.header("x-amz-target") {
            return t.rsplit('.').next().unwrap_or(t).to_string();
        }
        if let Some(a) = self.param("Action") {
            return a;
        }
        if let Some((_, op)) = self.path.split_once("/operation/") {
            return op.to_string();
        }
        rest_operation(&self.service(), &self.method, &self.segments(), &self.query)
    }

    pub fn segments(&self) -> Vec<String> {
        self.path
            .trim_start_matches('/')
            .split('/')
            .map(str::to_string)
            .collect()
    }
}

fn form(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    s.split('&').filter(|kv| !kv.is_empty()).map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (decode(k), decode(v))
    })
}

pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The REST operations the proxy's rules and statistics name.
fn rest_operation(service: &str, method: &str, seg: &[String], query: &str) -> String {
    let mut s: Vec<&str> = seg.iter().map(String::as_str).collect();
    // The S3 SDK writes a bucket's own path as `/bucket/`: that is the bucket, not an
    // object named "".
    if service == "s3" && s.len() == 2 && s[1].is_empty() {
        s.pop();
    }
    let op = match (service, method, s.as_slice()) {
        ("iot", "POST", ["things", _]) => "CreateThing",
        ("iot", "GET", ["things", _]) => "DescribeThing",
        ("iot", "DELETE", ["things", _]) => "DeleteThing",
        ("iot", "PATCH", ["things", _]) => "UpdateThing",
        ("iot", "PUT", ["things", _, "principals"]) => "AttachThingPrincipal",
        ("iot", "DELETE", ["things", _, "principals"]) => "DetachThingPrincipal",
        ("iot", "GET", ["things", _, "principals"]) => "ListThingPrincipals",
        ("iot", "POST", ["keys-and-certificate"]) => "CreateKeysAndCertificate",
        ("iot", "POST", ["certificates"]) => "CreateCertificateFromCsr",
        ("iot", "PUT", ["certificates", _]) => "UpdateCertificate",
        ("iot", "GET", ["certificates", _]) => "DescribeCertificate",
        ("iot", "DELETE", ["certificates", _]) => "DeleteCertificate",
        ("iot", "PUT", ["target-policies", _]) => "AttachPolicy",
        ("iot", "POST", ["target-policies", _]) => "DetachPolicy",
        ("iot", "POST", ["policies", _]) => "CreatePolicy",
        ("iot", "GET", ["policies", _]) => "GetPolicy",
        ("iot", "DELETE", ["policies", _]) => "DeletePolicy",
        ("iot", "POST", ["policies", _, "version"]) => "CreatePolicyVersion",
        ("iot", "DELETE", ["policies", _, "version", _]) => "DeletePolicyVersion",
        ("iot", "POST", ["thing-types", _]) => "CreateThingType",
        ("iot", "DELETE", ["thing-types", _]) => "DeleteThingType",
        ("iot", "POST", ["thing-types", _, "deprecate"]) => "DeprecateThingType",
        ("iot", "PUT", ["thing-groups", "addThingToThingGroup"]) => "AddThingToThingGroup",
        ("iot", "POST", ["thing-groups", _]) => "CreateThingGroup",
        ("iot", "DELETE", ["thing-groups", _]) => "DeleteThingGroup",
        ("iot", "POST", ["rules", _]) => "CreateTopicRule",
        ("iot", "DELETE", ["rules", _]) => "DeleteTopicRule",
        ("lambda", "POST", [_, "functions"]) => "CreateFunction",
        ("lambda", "GET", [_, "functions", _]) => "GetFunction",
        ("lambda", "DELETE", [_, "functions", _]) => "DeleteFunction",
        ("lambda", "GET", [_, "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("lambda", "PUT", [_, "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("lambda", "PUT", [_, "functions", _, "code"]) => "UpdateFunctionCode",
        ("lambda", "POST", [_, "functions", _, "versions"]) => "PublishVersion",
        ("lambda", "POST", [_, "functions", _, "policy"]) => "AddPermission",
        ("s3", "PUT", [_]) if query.is_empty() => "CreateBucket",
        ("s3", "PUT", [_]) if query.starts_with("versioning") => "PutBucketVersioning",
        ("s3", "DELETE", [_]) if query.is_empty() => "DeleteBucket",
        ("s3", "POST", [_]) if query.starts_with("delete") => "DeleteObjects",
        ("s3", "PUT", [_, _, ..]) if !query.contains("uploadId") => "PutObject",
        ("s3", "DELETE", [_, _, ..]) => "DeleteObject",
        _ => return format!("{method} /{}", s.first().copied().unwrap_or("")),
    };
    op.to_string()
}

/// The wire protocols of the services thingform calls.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    /// awsJson 1.0/1.1 (DynamoDB, CloudWatch Logs): `__type` in a JSON body.
    Json(String),
    /// awsQuery (IAM, SNS, STS): `<ErrorResponse><Error><Code>`.
    Query,
    /// restJson1 (IoT, IoT data, Lambda): the `x-amzn-ErrorType` header.
    RestJson(String),
    /// restXml (S3): `<Error><Code>`.
    S3,
    /// Smithy RPC v2 CBOR (CloudWatch): `__type` in a CBOR map.
    Cbor,
}

/// An answer to write back to thingform.
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// AWS's error answer for `code` in `protocol`'s shape, with HTTP `status`.
pub fn error(protocol: &Protocol, status: u16, code: &str, message: &str) -> Response {
    let id = format!("proxy-{:016x}", fastrand::u64(..));
    let mut headers = vec![("x-amzn-RequestId".to_string(), id.clone())];
    let body = match protocol {
        Protocol::Json(service) => {
            let ns = match service.as_str() {
                "dynamodb" => "com.amazonaws.dynamodb.v20120810#",
                _ => "",
            };
            headers.push(("Content-Type".into(), "application/x-amz-json-1.1".into()));
            serde_json::json!({"__type": format!("{ns}{code}"), "message": message})
                .to_string()
                .into_bytes()
        }
        Protocol::RestJson(service) => {
            headers.push(("x-amzn-ErrorType".into(), code.into()));
            headers.push(("Content-Type".into(), "application/json".into()));
            let mut body = serde_json::json!({"message": message});
            if service == "lambda" {
                body["Type"] = if status >= 500 { "Service" } else { "User" }.into();
                body["Message"] = message.into();
            }
            body.to_string().into_bytes()
        }
        Protocol::Query => {
            headers.push(("Content-Type".into(), "text/xml".into()));
            let kind = if status >= 500 { "Receiver" } else { "Sender" };
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>",
                xml_escape(message)
            )
            .into_bytes()
        }
        Protocol::S3 => {
            headers.push(("Content-Type".into(), "application/xml".into()));
            headers.push(("x-amz-request-id".into(), id.clone()));
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><RequestId>{id}</RequestId></Error>",
                xml_escape(message)
            )
            .into_bytes()
        }
        Protocol::Cbor => {
            headers.push(("Content-Type".into(), "application/cbor".into()));
            headers.push(("smithy-protocol".into(), "rpc-v2-cbor".into()));
            cbor_map(&[("__type", code), ("message", message)])
        }
    };
    Response {
        status,
        reason: reason(status).into(),
        headers,
        body,
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        406 => "Not Acceptable",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A CBOR map of text strings (RFC 8949: major type 5, then major type 3 items).
fn cbor_map(entries: &[(&str, &str)]) -> Vec<u8> {
    fn head(out: &mut Vec<u8>, major: u8, n: usize) {
        match n {
            0..=23 => out.push(major << 5 | n as u8),
            24..=0xff => out.extend([major << 5 | 24, n as u8]),
            _ => {
                out.push(major << 5 | 25);
                out.extend((n as u16).to_be_bytes());
            }
        }
    }
    let mut out = vec![];
    head(&mut out, 5, entries.len());
    for (k, v) in entries {
        for s in [k, v] {
            head(&mut out, 3, s.len());
            out.extend(s.as_bytes());
        }
    }
    out
}

/// Reads one request; `None` when the client closed the connection.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = String::new();
    let mut headers = vec![];
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if !head.is_empty()
            && let Some((k, v)) = line.split_once(':')
        {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        head.push_str(&line);
    }
    let mut parts = head.split_whitespace();
    let (method, uri) = (parts.next()?.to_string(), parts.next()?.to_string());
    let (path, query) = uri.split_once('?').unwrap_or((&uri, ""));
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let (raw_body, body) = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(reader)?
    } else {
        let n: usize = find("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut b = vec![0; n];
        reader.read_exact(&mut b).ok()?;
        (b.clone(), b)
    };
    Some(Request {
        path: percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned(),
        query: query.to_string(),
        method,
        headers,
        head,
        raw_body,
        body,
    })
}

/// A chunked body: the bytes as framed, and the content.
fn read_chunked(reader: &mut impl BufRead) -> Option<(Vec<u8>, Vec<u8>)> {
    let (mut raw, mut body) = (vec![], vec![]);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        raw.extend(line.as_bytes());
        let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut t = String::new();
                reader.read_line(&mut t).ok()?;
                raw.extend(t.as_bytes());
                if t == "\r\n" || t.is_empty() {
                    return Some((raw, body));
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        raw.extend(&chunk);
        body.extend(&chunk[..size]);
    }
}

/// Sends `req` to the emulator on a connection of its own and reads the whole answer.
pub fn forward(upstream: &str, req: &Request) -> std::io::Result<Response> {
    let mut server = TcpStream::connect(upstream)?;
    let mut head = String::new();
    for (i, line) in req.head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    server.write_all(head.as_bytes())?;
    server.write_all(&req.raw_body)?;
    let mut all = vec![];
    server.read_to_end(&mut all)?;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("emulator sent no head"))?;
    let text = String::from_utf8_lossy(&all[..split]).to_string();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut sp = status_line.splitn(3, ' ');
    sp.next();
    let status = sp.next().and_then(|s| s.parse().ok()).unwrap_or(502);
    let reason = sp.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = all[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = read_chunked(&mut std::io::Cursor::new(body))
            .map(|(_, b)| b)
            .unwrap_or_default();
    }
    Ok(Response {
        status,
        reason,
        headers,
        body,
    })
}

/// Writes `resp` to thingform (a HEAD answer keeps the emulator's Content-Length).
pub fn write_response(client: &mut TcpStream, resp: &Response, head_only: bool) -> bool {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
    for (k, v) in &resp.headers {
        let lower = k.to_ascii_lowercase();
        if lower == "connection"
            || lower == "transfer-encoding"
            || (lower == "content-length" && !head_only)
        {
            continue;
        }
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !head_only {
        out.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    out.push_str("\r\n");
    client.write_all(out.as_bytes()).is_ok()
        && (head_only || client.write_all(&resp.body).is_ok())
        && client.flush().is_ok()
}

/// Ends the connection with a TCP reset, as a dropped connection looks to the client.
pub fn reset(client: TcpStream) {
    let _ = socket2::SockRef::from(&client).set_linger(Some(std::time::Duration::ZERO));
    drop(client);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_errors_are_well_formed() {
        assert_eq!(
            cbor_map(&[("a", "bc")]),
            vec![0xa1, 0x61, b'a', 0x62, b'b', b'c']
        );
    }
}
