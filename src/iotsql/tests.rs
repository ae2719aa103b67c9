//! The corpus: statements from the AWS IoT SQL reference with their documented results
//! (each case names its page under https://docs.aws.amazon.com/iot/latest/developerguide/),
//! then AWS's operator type rules, the version differences, and invalid statements.

use super::*;
use serde_json::json;

const T0: i64 = 1_520_376_603_923;

fn ctx(version: Version, topic: &str, payload: &Json) -> Context {
    Context::new(version, topic, payload.to_string().as_bytes(), T0)
}

/// The output of `sql` (version 2016-03-23) for `payload` on `topic`; `None`: no match.
fn run_v(version: Version, sql: &str, topic: &str, payload: Json) -> Option<Json> {
    let st = Statement::parse(sql, version).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let out = st
        .evaluate(&ctx(version, topic, &payload))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    out.matched.then(|| out.output.unwrap_or(Json::Null))
}

fn run(sql: &str, topic: &str, payload: Json) -> Option<Json> {
    run_v(Version::V2016_03_23, sql, topic, payload)
}

/// One expression's value on `payload` (Undefined: `None`).
fn value(expr: &str, payload: Json) -> Option<Json> {
    let out = run(&format!("SELECT VALUE {expr} FROM 'a/b'"), "a/b", payload)
        .expect("no WHERE, so it matches");
    (!out.is_null()).then_some(out)
}

fn err(sql: &str, version: Version) -> String {
    match Statement::parse(sql, version) {
        Ok(_) => panic!("{sql} should be rejected"),
        Err(e) => e.message,
    }
}

// iot-sql-select.html
#[test]
fn select_clause_examples() {
    let p = json!({"color": "red", "temperature": 50});
    let t = "topic/subtopic";
    assert_eq!(
        run("SELECT * FROM 'topic/subtopic'", t, p.clone()),
        Some(p.clone())
    );
    assert_eq!(
        run("SELECT color FROM 'topic/subtopic'", t, p.clone()),
        Some(json!({"color": "red"}))
    );
    assert_eq!(
        run(
            "SELECT color AS my_color FROM 'topic/subtopic'",
            t,
            p.clone()
        ),
        Some(json!({"my_color": "red"}))
    );
    assert_eq!(
        run(
            "SELECT color as my_color, temperature as fahrenheit FROM 'topic/subtopic'",
            t,
            p.clone()
        ),
        Some(json!({"my_color": "red", "fahrenheit": 50}))
    );
    assert_eq!(
        run("SELECT *, 15 as speed FROM 'topic/subtopic'", t, p.clone()),
        Some(json!({"color": "red", "temperature": 50, "speed": 15}))
    );
    assert_eq!(
        run("SELECT VALUE color FROM 'topic/subtopic'", t, p),
        Some(json!("red"))
    );
    let nested = json!({"color": {"red": 255, "green": 0, "blue": 0}, "temperature": 50});
    assert_eq!(
        run(
            "SELECT color.red as red_value FROM 'topic/subtopic'",
            t,
            nested
        ),
        Some(json!({"red_value": 255}))
    );
}

// iot-sql-version.html: "Array as top-level object"
#[test]
fn select_value_array_as_top_level_object() {
    let p = json!({"a": {"b": "c"}, "arr": [1, 2, 3, 4]});
    assert_eq!(
        run("SELECT VALUE arr FROM 'topic'", "topic", p),
        Some(json!([1, 2, 3, 4]))
    );
}

// iot-sql-nested-queries.html
#[test]
fn nested_object_queries() {
    let p = json!({"e": [
        {"n": "temperature", "u": "Cel", "t": 1234, "v": 22.5},
        {"n": "light", "u": "lm", "t": 1235, "v": 135},
        {"n": "acidity", "u": "pH", "t": 1235, "v": 7}
    ]});
    assert_eq!(
        run(
            "SELECT (SELECT VALUE n FROM e) as sensors FROM 'my/topic'",
            "my/topic",
            p.clone()
        ),
        Some(json!({"sensors": ["temperature", "light", "acidity"]}))
    );
    assert_eq!(
        run(
            "SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 'my/topic'",
            "my/topic",
            p.clone()
        ),
        Some(json!({"temperature": [{"v": 22.5}]}))
    );
    assert_eq!(
        run(
            "SELECT get((SELECT v FROM e WHERE n = 'temperature'), 0).v as temperature FROM 'topic'",
            "topic",
            p
        ),
        Some(json!({"temperature": 22.5}))
    );
}

// iot-sql-json.html
#[test]
fn json_extensions() {
    let p = json!({"mydata": {"item2": {"0": {"my-key": "myValue"}}}});
    assert_eq!(
        run(
            r#"SELECT * from 'iot/rules' WHERE get(get(get(mydata,"item2"),"0"),"my-key") = "myValue""#,
            "iot/rules",
            p.clone()
        ),
        Some(p)
    );
    let dev = json!({"deviceid": "iot123", "temp": 54.98, "humidity": 32.43, "coords": {"latitude": 47.615694, "longitude": -122.3359976}});
    assert_eq!(
        run(
            "SELECT temp, md5(deviceid) AS hashed_id FROM 'topic/#'",
            "topic/x",
            dev
        ),
        Some(json!({"temp": 54.98, "hashed_id": "e37f81fb397e595c4aeb5645b8cbbbd1"}))
    );
}

// iot-substitution-templates.html
#[test]
fn substitution_template_example() {
    let p = json!({"deviceid": "iot123", "temp": 54.98, "humidity": 32.43, "coords": {"latitude": 47.615694, "longitude": -122.3359976}});
    let out = run(
        "SELECT *, timestamp() AS timestamp FROM 'my/iot/topic'",
        "my/iot/topic",
        p.clone(),
    )
    .unwrap();
    let mut expected = p.clone();
    expected["timestamp"] = json!(T0);
    assert_eq!(out, expected);
    let t = Template::parse("${topic()}/republish", Version::V2016_03_23).unwrap();
    assert_eq!(
        t.render(&ctx(Version::V2016_03_23, "my/iot/topic", &p))
            .unwrap(),
        "my/iot/topic/republish"
    );
}

// iot-sql-where.html
#[test]
fn where_clause() {
    let sql =
        "SELECT color AS my_color FROM 'topic/subtopic' WHERE temperature > 50 AND color <> 'red'";
    assert_eq!(
        run(
            sql,
            "topic/subtopic",
            json!({"color": "red", "temperature": 40})
        ),
        None
    );
    assert_eq!(
        run(
            sql,
            "topic/subtopic",
            json!({"color": "blue", "temperature": 60})
        ),
        Some(json!({"my_color": "blue"}))
    );
    // A WHERE over a missing field is Undefined, which does not match.
    assert_eq!(
        run("SELECT * FROM 'a' WHERE nope > 1", "a", json!({"x": 1})),
        None
    );
}

// iot-sql-functions.html: substring
#[test]
fn substring_examples() {
    for (e, want) in [
        (r#"substring("012345", 0)"#, json!("012345")),
        (r#"substring("012345", 2)"#, json!("2345")),
        (r#"substring("012345", 2.745)"#, json!("2345")),
        (r#"substring(123, 2)"#, json!("3")),
        (r#"substring("012345", -1)"#, json!("012345")),
        (r#"substring(true, 1.2)"#, json!("rue")),
        (r#"substring(false, -2.411E5)"#, json!("false")),
        (r#"substring("012345", 1, 3)"#, json!("12")),
        (r#"substring("012345", -50, 50)"#, json!("012345")),
        (r#"substring("012345", 3, 1)"#, json!("")),
    ] {
        assert_eq!(value(e, json!({})), Some(want), "{e}");
    }
}

// iot-sql-functions.html: math, strings, regular expressions, type tests
#[test]
fn function_examples() {
    for (e, want) in [
        ("abs(-5)", json!(5)),
        ("ceil(1.2)", json!(2)),
        ("ceil(-1.2)", json!(-1)),
        ("floor(1.2)", json!(1)),
        ("floor(-1.2)", json!(-2)),
        ("round(1.2)", json!(1)),
        ("round(1.5)", json!(2)),
        ("round(-1.7)", json!(-2)),
        ("mod(8, 3)", json!(2)),
        ("sqrt(9)", json!(3.0)),
        ("power(2, 3)", json!(8.0)),
        (r#"upper("hello")"#, json!("HELLO")),
        (r#"lower("HELLO")"#, json!("hello")),
        (r#"concat("cat", "dog")"#, json!("catdog")),
        ("concat([1, 2], [3])", json!([1, 2, 3])),
        (r#"startswith("cat", "ca")"#, json!(true)),
        (r#"endswith("cat", "at")"#, json!(true)),
        (r#"indexof("abcd", "bc")"#, json!(1)),
        (r#"length("hi")"#, json!(2)),
        (r#"trim("   hi   ")"#, json!("hi")),
        (r#"replace("abcdabcd", "b", "x")"#, json!("axcdaxcd")),
        (r#"regexp_matches("aaaa", "a{2,}")"#, json!(true)),
        (r#"regexp_matches("aaaa", "b")"#, json!(false)),
        (r#"regexp_replace("abcd", "[ab]", "")"#, json!("cd")),
        (r#"regexp_replace("abcd", "(b)", "$1$1")"#, json!("abbcd")),
        ("isNull(null)", json!(true)),
        ("isNull(5)", json!(false)),
        ("isUndefined(5)", json!(false)),
        ("isUndefined(missing)", json!(true)),
        ("cast(true as Int)", json!(1)),
        (r#"cast("12" as Int)"#, json!(12)),
        ("cast(2.7 as Int)", json!(2)),
        ("cast(5 as String)", json!("5")),
        (
            r#"parse_time("yyyy-MM-dd HH:mm:ss z", 1520376603923)"#,
            json!("2018-03-06 22:50:03 UTC"),
        ),
        (
            r#"parse_time("yyyy-MM-dd'T'HH:mm:ss.SSSZ", 1520376603923)"#,
            json!("2018-03-06T22:50:03.923+0000"),
        ),
        (
            r#"parse_time("yyyy/MM/dd", 1520376603923, "+02:00")"#,
            json!("2018/03/07"),
        ),
        (r#"decode("aGVsbG8=", 'base64')"#, json!("hello")),
        (r#"encode("hello", 'base64')"#, json!("aGVsbG8=")),
        ("topic(2)", json!("b")),
        ("topic()", json!("a/b")),
        ("timestamp()", json!(T0)),
    ] {
        assert_eq!(value(e, json!({})), Some(want), "{e}");
    }
    assert_eq!(
        value("topic(3)", json!({})),
        None,
        "a level past the end is Undefined"
    );
    assert_eq!(
        value("newuuid()", json!({}))
            .unwrap()
            .as_str()
            .unwrap()
            .len(),
        36
    );
}

// iot-sql-operators.html: operand types and Undefined
#[test]
fn operator_type_rules() {
    for (e, want) in [
        ("1 + 2", Some(json!(3))),
        ("1 + 2.5", Some(json!(3.5))),
        (r#""a" + "b""#, Some(json!("ab"))),
        (r#""5" + 1"#, Some(json!(6))),
        (r#""abc" + 1"#, None),
        ("7 / 2", Some(json!(3))),
        ("7.0 / 2", Some(json!(3.5))),
        ("1 / 0", None),
        ("7 % 3", Some(json!(1))),
        ("-x", Some(json!(-4))),
        (r#"true AND "TRUE""#, Some(json!(true))),
        ("true AND 1", None),
        (r#"NOT "false""#, Some(json!(true))),
        ("false AND missing", Some(json!(false))),
        ("true OR missing", Some(json!(true))),
        ("true AND missing", None),
        (r#""10" > 9"#, Some(json!(true))),
        (r#""abc" > 9"#, None),
        ("x = 4.0", Some(json!(true))),
        (r#"x = "4""#, Some(json!(false))),
        ("x <> 5", Some(json!(true))),
        ("missing = 1", None),
        ("2 IN [1, 2, 3]", Some(json!(true))),
        ("[1, {'a': x}]", Some(json!([1, {"a": 4}]))),
        ("arr[1]", Some(json!(20))),
        ("arr[5]", None),
        ("o.p.q", Some(json!("deep"))),
    ] {
        let p = json!({"x": 4, "arr": [10, 20], "o": {"p": {"q": "deep"}}});
        assert_eq!(value(e, p), want, "{e}");
    }
}

// iot-sql-case.html
#[test]
fn case_statements() {
    let sql = "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' WHEN 'red' THEN 'stop' ELSE 'you are not at a stop light' END as instructions FROM 'topic/subtopic'";
    assert_eq!(
        run(sql, "topic/subtopic", json!({"color": "yellow"})),
        Some(json!({"instructions": "caution"}))
    );
    assert_eq!(
        run(sql, "topic/subtopic", json!({"color": "blue"})),
        Some(json!({"instructions": "you are not at a stop light"}))
    );
    assert_eq!(
        value(
            "CASE WHEN t > 30 THEN 'hot' WHEN t > 10 THEN 'mild' END",
            json!({"t": 20})
        ),
        Some(json!("mild"))
    );
    assert_eq!(
        value("CASE WHEN t > 30 THEN 'hot' END", json!({"t": 20})),
        None
    );
}

#[test]
fn undefined_items_are_left_out_and_objects_nest() {
    assert_eq!(
        run(
            "SELECT a, nope, {'t': t, 'gone': nope} AS obj FROM 'x/#'",
            "x/y",
            json!({"a": 1, "t": 2})
        ),
        Some(json!({"a": 1, "obj": {"t": 2}}))
    );
}

// iot-sql-data-types.html: whole decimals are Int in 2016-03-23, Decimal in 2015-10-08
#[test]
fn versions_differ_on_whole_decimals_and_2016_features() {
    let p = json!({"v": 10.0});
    assert_eq!(
        run_v(Version::V2016_03_23, "SELECT v FROM 'a'", "a", p.clone()),
        Some(json!({"v": 10}))
    );
    assert_eq!(
        run_v(Version::V2015_10_08, "SELECT v FROM 'a'", "a", p),
        Some(json!({"v": 10.0}))
    );
    assert!(
        err(
            "SELECT (SELECT VALUE n FROM e) AS s FROM 'a'",
            Version::V2015_10_08
        )
        .contains("2016-03-23")
    );
    assert!(
        err(
            "SELECT encode(*, 'base64') AS b FROM 'a'",
            Version::V2015_10_08
        )
        .contains("2016-03-23")
    );
    assert_eq!(Version::parse("2016-03-23"), Ok(Version::V2016_03_23));
    assert!(
        Version::parse("2017-01-01")
            .unwrap_err()
            .contains("2016-03-23")
    );
}

#[test]
fn topic_filters_match_as_mqtt() {
    let sql = "SELECT * FROM 'sensors/campus/+/environment'";
    assert!(run(sql, "sensors/campus/n1/environment", json!({})).is_some());
    let st = Statement::parse(sql, Version::V2016_03_23).unwrap();
    let o = st
        .evaluate(&ctx(
            Version::V2016_03_23,
            "sensors/other/n1/environment",
            &json!({}),
        ))
        .unwrap();
    assert!(!o.topic_matched && !o.matched);
    assert!(topic::matches("a/#", "a"));
    assert!(topic::matches("a/#", "a/b/c"));
    assert!(!topic::matches("+/x", "$aws/x"));
}

#[test]
fn external_functions_parse_but_say_they_are_not_evaluated() {
    let st = Statement::parse(
        "SELECT aws_lambda('arn:aws:lambda:eu-west-1:1:function:f', *) AS r FROM 'a'",
        Version::V2016_03_23,
    )
    .unwrap();
    let e = st
        .evaluate(&ctx(Version::V2016_03_23, "a", &json!({})))
        .unwrap_err();
    assert!(e.contains("not evaluated locally"), "{e}");
}

#[test]
fn invalid_statements_are_rejected_with_a_position() {
    let v = Version::V2016_03_23;
    for (sql, says) in [
        ("SELECT * 'a/b'", "expected FROM"),
        ("SELECT * FROM a/b", "single quotes"),
        ("SELECT * FROM 'a/b+/c'", "whole level"),
        ("SELECT * FROM 'a/#/c'", "last"),
        ("SELECT * FROM 'a/b#'", "whole level"),
        ("SELECT * FROM '1/2/3/4/5/6/7/8/9'", "at most 8"),
        ("SELECT * FROM ''", "empty"),
        ("SELECT tmestamp() FROM 'a'", "unknown function"),
        ("SELECT topic(1, 2) FROM 'a'", "takes 0 to 1 arguments"),
        ("SELECT VALUE a, b FROM 'a'", "exactly one"),
        ("SELECT 'abc FROM 'a'", "FROM"),
        ("SELECT CASE x END FROM 'a'", "WHEN"),
        ("SELECT a FROM 'a' WHERE", "end of the statement"),
        ("SELECT a FROM 'a' extra", "after the statement"),
        (
            "SELECT cast(a AS Float) FROM 'a'",
            "Int, Decimal, Boolean and String",
        ),
        ("SELECT a +* b FROM 'a'", "unexpected"),
    ] {
        let m = err(sql, v);
        assert!(m.contains(says), "{sql}: {m}");
    }
    let e = Statement::parse("SELECT *\nFROM 'a/b+'", v).unwrap_err();
    assert_eq!(line_col("SELECT *\nFROM 'a/b+'", e.offset), (2, 7));
}

#[test]
fn templates_parse_with_the_expression_parser() {
    let v = Version::V2016_03_23;
    let t = Template::parse(
        "raw/${topic(3)}/${parse_time(\"yyyy/MM/dd\", timestamp())}/${timestamp()}.json",
        v,
    )
    .unwrap();
    let c = ctx(
        v,
        "sensors/campus/node-01/environment",
        &json!({"temp": 21}),
    );
    assert_eq!(
        t.render(&c).unwrap(),
        format!("raw/node-01/2018/03/06/{T0}.json")
    );
    assert!(!Template::parse("plain", v).unwrap().has_expressions());
    assert!(
        Template::parse("${temp + }", v)
            .unwrap_err()
            .message
            .contains("unexpected")
    );
    assert!(
        Template::parse("a/${topic(3)", v)
            .unwrap_err()
            .message
            .contains("not closed")
    );
    assert!(
        Template::parse("${nofn()}", v)
            .unwrap_err()
            .message
            .contains("unknown function")
    );
    // An expression over a field of the original message; Undefined renders empty.
    let t = Template::parse("${temp}-${nope}", v).unwrap();
    assert_eq!(t.render(&c).unwrap(), "21-");
}

#[test]
fn odd_input_never_panics() {
    for sql in [
        "SELECT é FROM 'a'",
        "SELECT * FROM 'ä/+/ö' WHERE \u{2003}x = 'ü'",
        "SELECT `unterminated FROM 'a'",
        "SELECT -9223372036854775808 % -1 AS m, abs(-9223372036854775808) AS a, -x AS n FROM 'a'",
        "SELECT 99999999999999999999999 AS big, lpad('x', 99999999999) AS p FROM 'a'",
        "SELECT '",
        "",
        "(((((((",
        "SELECT {'a': } FROM 'a'",
        "SELECT get(*, 0) FROM 'a'",
    ] {
        if let Ok(st) = Statement::parse(sql, Version::V2016_03_23) {
            let c = ctx(Version::V2016_03_23, "ä/b/ö", &json!({"x": i64::MIN}));
            let _ = st.evaluate(&c);
        }
        let _ = Template::parse(sql, Version::V2016_03_23);
    }
    assert_eq!(
        value("lpad('x', 99999999999)", json!({})),
        None,
        "unbounded padding is Undefined"
    );
}
