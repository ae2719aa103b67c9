//! Examples from Terraform's function documentation, one test per function
//! (https://developer.hashicorp.com/terraform/language/functions/<name>).

use super::*;
use serde_json::{Value as J, json};

fn c(name: &str, args: Vec<J>) -> J {
    try_c(name, args).unwrap().to_json()
}

fn try_c(name: &str, args: Vec<J>) -> Result<Value, String> {
    call(
        name,
        args.iter().map(Value::from_json).collect(),
        Path::new("."),
    )
}

// .../functions/regex
#[test]
fn regex() {
    assert_eq!(
        c(
            "regex",
            vec![json!("[a-z]+"), json!("53453453.345345aaabbbccc23454")]
        ),
        json!("aaabbbccc")
    );
    assert_eq!(
        c(
            "regex",
            vec![json!(r"(\d\d\d\d)-(\d\d)-(\d\d)"), json!("2019-02-01")]
        ),
        json!(["2019", "02", "01"])
    );
    assert_eq!(
        c(
            "regex",
            vec![
                json!("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                json!("https://terraform.io/docs/")
            ]
        ),
        json!({"authority": "terraform.io", "scheme": "https"})
    );
    let e = try_c(
        "regex",
        vec![json!("[a-z]+"), json!("53453453.34534523454")],
    )
    .unwrap_err();
    assert!(e.contains("did not match"), "{e}");
    assert!(
        try_c("regex", vec![json!("(?P<a>x)(y)"), json!("xy")])
            .unwrap_err()
            .contains("mixed")
    );
    assert!(
        try_c("regex", vec![json!("("), json!("x")])
            .unwrap_err()
            .contains("invalid regular expression")
    );
}

// .../functions/regexall
#[test]
fn regexall() {
    assert_eq!(
        c(
            "regexall",
            vec![json!("[a-z]+"), json!("1234abcd5678efgh9")]
        ),
        json!(["abcd", "efgh"])
    );
    assert_eq!(
        c("regexall", vec![json!("[a-z]+"), json!("123456789")]),
        json!([])
    );
    assert_eq!(
        c("regexall", vec![json!("(\\w)=(\\d)"), json!("a=1 b=2")]),
        json!([["a", "1"], ["b", "2"]])
    );
}

// .../functions/replace
#[test]
fn replace_with_a_regular_expression() {
    assert_eq!(
        c("replace", vec![json!("1 + 2 + 3"), json!("+"), json!("-")]),
        json!("1 - 2 - 3")
    );
    assert_eq!(
        c(
            "replace",
            vec![json!("hello world"), json!("/w.*d/"), json!("everybody")]
        ),
        json!("hello everybody")
    );
    assert_eq!(
        c(
            "replace",
            vec![
                json!("node-01 node-02"),
                json!("/node-(\\d+)/"),
                json!("n$1")
            ]
        ),
        json!("n01 n02")
    );
    assert_eq!(
        c(
            "replace",
            vec![
                json!("2019-02-01"),
                json!("/(?P<y>\\d+)-(?P<m>\\d+)-\\d+/"),
                json!("${m}/${y}")
            ]
        ),
        json!("02/2019")
    );
}

// .../functions/setproduct, setunion, setintersection, setsubtract
#[test]
fn sets() {
    assert_eq!(
        c(
            "setproduct",
            vec![
                json!(["development", "staging", "production"]),
                json!(["app1", "app2"])
            ]
        ),
        json!([
            ["development", "app1"],
            ["development", "app2"],
            ["staging", "app1"],
            ["staging", "app2"],
            ["production", "app1"],
            ["production", "app2"]
        ])
    );
    assert_eq!(c("setproduct", vec![json!([]), json!(["a"])]), json!([]));
    assert!(try_c("setproduct", vec![json!(["a"])]).is_err());
    assert_eq!(
        c(
            "setunion",
            vec![json!(["a", "b"]), json!(["b", "c"]), json!(["d"])]
        ),
        json!(["a", "b", "c", "d"])
    );
    assert_eq!(
        c(
            "setintersection",
            vec![json!(["a", "b"]), json!(["b", "c"]), json!(["b", "d"])]
        ),
        json!(["b"])
    );
    assert_eq!(
        c(
            "setsubtract",
            vec![json!(["a", "b", "c"]), json!(["a", "c"])]
        ),
        json!(["b"])
    );
    assert_eq!(
        c(
            "setsubtract",
            vec![json!(["a", "b", "c"]), json!(["a", "b", "c"])]
        ),
        json!([])
    );
}

// .../functions/transpose, sum, alltrue, anytrue
#[test]
fn transpose_sum_alltrue_anytrue() {
    assert_eq!(
        c("transpose", vec![json!({"a": ["1", "2"], "b": ["2", "3"]})]),
        json!({"1": ["a"], "2": ["a", "b"], "3": ["b"]})
    );
    assert_eq!(c("sum", vec![json!([10, 13, 6, 4.5])]), json!(33.5));
    assert!(try_c("sum", vec![json!([])]).unwrap_err().contains("empty"));
    assert_eq!(c("alltrue", vec![json!(["true", true])]), json!(true));
    assert_eq!(c("alltrue", vec![json!([true, false])]), json!(false));
    assert_eq!(c("alltrue", vec![json!([])]), json!(true));
    assert_eq!(c("anytrue", vec![json!(["true"])]), json!(true));
    assert_eq!(c("anytrue", vec![json!([true])]), json!(true));
    assert_eq!(c("anytrue", vec![json!([true, false])]), json!(true));
    assert_eq!(c("anytrue", vec![json!([])]), json!(false));
}

// .../functions/yamlencode
#[test]
fn yamlencode() {
    assert_eq!(
        c("yamlencode", vec![json!({"a": "b", "c": "d"})]),
        json!("\"a\": \"b\"\n\"c\": \"d\"\n")
    );
    assert_eq!(
        c("yamlencode", vec![json!({"foo": [1, 2, 3], "bar": "baz"})]),
        json!("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n")
    );
    assert_eq!(
        c(
            "yamlencode",
            vec![json!({"foo": [1, {"a": "b", "c": "d"}, 3], "bar": "baz"})]
        ),
        json!("\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n")
    );
    assert_eq!(
        c(
            "yamlencode",
            vec![json!({"m": {"x": [], "y": {}, "z": null, "t": true}, "q": "say \"hi\"\n"})]
        ),
        json!(
            "\"m\":\n  \"t\": true\n  \"x\": []\n  \"y\": {}\n  \"z\": null\n\"q\": |\n  say \"hi\"\n"
        )
    );
    // Multi-line strings are literal blocks; scalar documents end with `...`
    // (github.com/zclconf/go-cty-yaml encode_test.go, converter.go).
    assert_eq!(
        c(
            "yamlencode",
            vec![json!({"a": "x\ny\n", "b": ["p\nq"], "c": "t\t\n"})]
        ),
        json!("\"a\": |\n  x\n  y\n\"b\":\n- |-\n  p\n  q\n\"c\": \"t\\t\\n\"\n")
    );
    assert_eq!(c("yamlencode", vec![json!(true)]), json!("true\n...\n"));
    assert_eq!(c("yamlencode", vec![json!("hello")]), json!("\"hello\"\n"));
    assert_eq!(c("yamlencode", vec![json!({})]), json!("{}\n"));
    // What yamlencode writes, yamldecode reads back.
    let v = json!({"a": [1, {"b": ["c", 2.5, "l1\n\nl3\n\n"]}], "d": {"e": "f\tg", "h": " x\ny"}});
    let text = c("yamlencode", vec![v.clone()]);
    assert_eq!(c("yamldecode", vec![text]), v);
}

// .../functions/yamldecode
#[test]
fn yamldecode() {
    assert_eq!(
        c("yamldecode", vec![json!("hello: world")]),
        json!({"hello": "world"})
    );
    assert_eq!(c("yamldecode", vec![json!("true")]), json!(true));
    assert_eq!(
        c("yamldecode", vec![json!("{a: &foo [1, 2, 3], b: *foo}")]),
        json!({"a": [1, 2, 3], "b": [1, 2, 3]})
    );
    assert!(try_c("yamldecode", vec![json!("{a: &foo [1, *foo, 3]}")]).is_err());
    let e = try_c("yamldecode", vec![json!("{a: !not-supported foo}")]).unwrap_err();
    assert!(e.contains("unsupported tag"), "{e}");
}

// .../functions/formatdate
#[test]
fn formatdate() {
    let f = |spec: &str, ts: &str| c("formatdate", vec![json!(spec), json!(ts)]);
    assert_eq!(
        f("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"),
        json!("02 Jan 2018 23:12 UTC")
    );
    assert_eq!(
        f("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"),
        json!("Tuesday, 02-Jan-18 23:12:01 UTC")
    );
    assert_eq!(
        f("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
        json!("Tue, 02 Jan 2018 23:12:01 -0800")
    );
    assert_eq!(
        f("MMM DD, YYYY", "2018-01-02T23:12:01Z"),
        json!("Jan 02, 2018")
    );
    assert_eq!(f("HH:mmaa", "2018-01-02T23:12:01Z"), json!("11:12pm"));
    assert_eq!(
        f("YYYY-MM-DD'T'hh:mm:ssZ", "2018-01-02T03:04:05+05:30"),
        json!("2018-01-02T03:04:05+05:30")
    );
    assert_eq!(
        f("D/M h:m:s 'o''clock' ''", "2018-01-02T03:04:05Z"),
        json!("2/1 3:4:5 o'clock '")
    );
    assert!(
        try_c(
            "formatdate",
            vec![json!("YYY"), json!("2018-01-02T23:12:01Z")]
        )
        .unwrap_err()
        .contains("YYY")
    );
    assert!(
        try_c("formatdate", vec![json!("YYYY"), json!("2018-01-02")])
            .unwrap_err()
            .contains("RFC3339")
    );
}

// .../functions/timestamp and .../functions/uuid: unknown until apply.
#[test]
fn timestamp_and_uuid_are_unknown_until_apply() {
    assert_eq!(try_c("timestamp", vec![]).unwrap(), Value::Unknown);
    assert_eq!(try_c("uuid", vec![]).unwrap(), Value::Unknown);
    // The apply side, on its own: the flag is process-wide, so it is not flipped here.
    let t = time::call_known("timestamp").unwrap();
    let t = t.as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
        "{t}"
    );
    let u = time::call_known("uuid").unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(u.as_str().unwrap())
            .unwrap()
            .get_version_num(),
        4
    );
}

// .../functions/urlencode
#[test]
fn urlencode() {
    assert_eq!(
        c("urlencode", vec![json!("Hello World!")]),
        json!("Hello+World%21")
    );
    assert_eq!(c("urlencode", vec![json!("☃")]), json!("%E2%98%83"));
    assert_eq!(
        c(
            "urlencode",
            vec![json!("foo:bar@localhost?foo=bar&bar=baz")]
        ),
        json!("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz")
    );
}

// .../functions/cidrsubnet
#[test]
fn cidrsubnet() {
    let f = |p: &str, b: u32, n: u64| c("cidrsubnet", vec![json!(p), json!(b), json!(n)]);
    assert_eq!(f("172.16.0.0/12", 4, 2), json!("172.18.0.0/16"));
    assert_eq!(f("10.1.2.0/24", 4, 15), json!("10.1.2.240/28"));
    assert_eq!(
        f("fd00:fd12:3456:7890::/56", 16, 162),
        json!("fd00:fd12:3456:7800:a200::/72")
    );
    assert_eq!(f("10.0.0.0/8", 8, 0), json!("10.0.0.0/16"));
    let e = try_c(
        "cidrsubnet",
        vec![json!("10.1.2.0/24"), json!(4), json!(16)],
    )
    .unwrap_err();
    assert!(
        e.contains("does not accommodate a subnet numbered 16"),
        "{e}"
    );
    let e = try_c("cidrsubnet", vec![json!("10.1.2.0/24"), json!(9), json!(0)]).unwrap_err();
    assert!(e.contains("insufficient address space"), "{e}");
}

// .../functions/md5 and .../functions/sha1
#[test]
fn md5_and_sha1() {
    assert_eq!(
        c("md5", vec![json!("hello world")]),
        json!("5eb63bbbe01eeed093cb22bb8f5acdc3")
    );
    assert_eq!(
        c("sha1", vec![json!("hello world")]),
        json!("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
    );
}

// .../functions/templatefile: the backends.tftpl and config.tftpl examples.
#[test]
fn templatefile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("backends.tftpl"),
        "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.tftpl"),
        "${jsonencode({\n  \"backends\": [for addr in ip_addrs : \"${addr}:${port}\"],\n})}\n",
    )
    .unwrap();
    let t = |file: &str, vars: J| {
        call(
            "templatefile",
            vec![Value::String(file.into()), Value::from_json(&vars)],
            dir.path(),
        )
    };
    let vars = json!({"port": 8080, "ip_addrs": ["10.0.0.1", "10.0.0.2"]});
    assert_eq!(
        t("backends.tftpl", vars.clone()).unwrap().to_json(),
        json!("backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n")
    );
    assert_eq!(
        t("config.tftpl", vars).unwrap().to_json(),
        json!("{\"backends\":[\"10.0.0.1:8080\",\"10.0.0.2:8080\"]}\n")
    );
    let e = t("backends.tftpl", json!({"port": 1})).unwrap_err();
    assert!(e.contains("ip_addrs"), "{e}");
    assert!(
        t("missing.tftpl", json!({}))
            .unwrap_err()
            .contains("cannot read")
    );
    // Unknown variables make the whole result unknown.
    let r = call(
        "templatefile",
        vec![
            Value::String("backends.tftpl".into()),
            Value::Map([("port".to_string(), Value::Unknown)].into()),
        ],
        dir.path(),
    );
    assert_eq!(r.unwrap(), Value::Unknown);
}

#[test]
fn unknown_arguments_give_unknown_results() {
    for name in [
        "regex",
        "yamlencode",
        "cidrsubnet",
        "md5",
        "setunion",
        "formatdate",
    ] {
        let r = call(
            name,
            vec![Value::Unknown, Value::String("x".into())],
            Path::new("."),
        );
        assert_eq!(r.unwrap(), Value::Unknown, "{name}");
    }
}
