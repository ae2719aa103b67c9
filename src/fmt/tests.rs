//! Hand-made inputs with the output hclwrite's rules give (see `layout`), each also
//! checked to be a fixed point (idempotence).

use super::format_source;

fn fmt(src: &str) -> String {
    let out = format_source("t.tf", src).unwrap();
    assert_eq!(format_source("t.tf", &out).unwrap(), out, "not idempotent");
    out
}

#[test]
fn equals_align_within_runs_of_single_line_attributes() {
    assert_eq!(
        fmt("a=1\nbbb = 2\n\ncc=3\n"),
        "a   = 1\nbbb = 2\n\ncc = 3\n"
    );
    // A comment line, a block and a multi-line value each end the run.
    assert_eq!(
        fmt("a=1\n# c\nbbb=2\nx {\n}\ndd=3\neeee = [\n1,\n]\nf=4\n"),
        "a = 1\n# c\nbbb = 2\nx {\n}\ndd = 3\neeee = [\n  1,\n]\nf = 4\n"
    );
}

#[test]
fn trailing_comments_align_and_keep_their_text() {
    assert_eq!(
        fmt("a = 1 # one  \nbbb = \"x\"   // two\n"),
        "a   = 1   # one  \nbbb = \"x\" // two\n"
    );
}

#[test]
fn spacing_of_operators_brackets_and_templates() {
    assert_eq!(
        fmt("x = [for s in  var.l:upper(s)if s!=\"\"]\n"),
        "x = [for s in var.l : upper(s) if s != \"\"]\n"
    );
    assert_eq!(fmt("x = a*-1+b [ 0 ] . c\n"), "x = a * -1 + b[0].c\n");
    assert_eq!(
        fmt("x = \"a${ b }c%{ if d }e%{ endif }\"\n"),
        "x = \"a${b}c%{if d}e%{endif}\"\n"
    );
    assert_eq!(fmt("x = \"${~ a ~}b\"\n"), "x = \"${~a~}b\"\n");
    assert_eq!(fmt("x = f(a...)\n"), "x = f(a...)\n");
    assert_eq!(fmt("b  {  a = 1  }\n"), "b { a = 1 }\n");
}

#[test]
fn indentation_follows_bracket_nesting() {
    assert_eq!(
        fmt("a {\nb = {\nc = [\n1,\n]\n}\n}\n"),
        "a {\n  b = {\n    c = [\n      1,\n    ]\n  }\n}\n"
    );
    // Two brackets opened on one line are one level.
    assert_eq!(
        fmt("x = jsonencode({\na = 1\n})\n"),
        "x = jsonencode({\n  a = 1\n})\n"
    );
}

#[test]
fn heredocs_and_block_comments_are_untouched() {
    let src = "a {\n      x = <<-EOT\n    keep   \n      ${ y }\n    EOT\n/* a\n     b */\n}\n";
    assert_eq!(
        fmt(src),
        "a {\n  x = <<-EOT\n    keep   \n      ${y}\n    EOT\n  /* a\n     b */\n}\n"
    );
}

#[test]
fn terraform_rewrites_interpolations_labels_and_legacy_types() {
    assert_eq!(fmt("a = \"${b}\"\n"), "a = b\n");
    assert_eq!(fmt("a = \"${b}${c}\"\n"), "a = \"${b}${c}\"\n");
    assert_eq!(fmt("a = [\"${b}\"]\n"), "a = [\"${b}\"]\n");
    assert_eq!(fmt("a = \"${f(\"${b}\")}\"\n"), "a = f(\"${b}\")\n");
    assert_eq!(
        fmt("resource x /* c */ y {}\n"),
        "resource \"x\" \"y\" {}\n"
    );
    assert_eq!(
        fmt("variable \"v\" {\ntype = \"list\"\n}\n"),
        "variable \"v\" {\n  type = list(string)\n}\n"
    );
    // Only a variable's own `type` is a type.
    assert_eq!(
        fmt("x {\ntype = \"list\"\n}\n"),
        "x {\n  type = \"list\"\n}\n"
    );
}

#[test]
fn line_endings_and_the_end_of_file_are_kept() {
    assert_eq!(fmt("a=1\r\nbb=2\r\n"), "a  = 1\r\nbb = 2\r\n");
    // As terraform fmt: no newline is added at the end, none removed.
    assert_eq!(fmt("a=1"), "a = 1");
    assert_eq!(fmt("a=1\n\n\n"), "a = 1\n\n\n");
}

#[test]
fn invalid_hcl_is_an_error_with_its_place() {
    let err = format_source("main.tf", "a = 1\nb = {\n").unwrap_err();
    let loc = err.loc.expect("a location");
    assert_eq!((loc.file.as_str(), loc.line), ("main.tf", 2));
    assert!(format_source("main.tf", "a = \"x\nb = 1\n").is_err());
}
