//! The whitespace passes of `hclwrite.Format`, over a token sequence: only the spaces
//! before tokens change, never the tokens.
//!
//! The rules, as HCL's writer applies them:
//! - Each line is split into up to three cells: the *lead*; the *assign* cell, from the
//!   first `=` (not the line's first token) to the end, when the brackets from it to the
//!   end of the line balance (so `x = {` starting a multi-line value is not one); and the
//!   *comment* cell, a trailing comment after other tokens.
//! - Indentation: two spaces per level of an indent stack. A line with a net increase of
//!   open brackets is indented at the current level and pushes one level; a line with a
//!   net decrease pops the levels its closers account for and is indented at the level
//!   left. A heredoc opener stops the count in the lead (its body is text).
//! - Spacing between tokens of a cell: [`space_after`].
//! - Alignment: consecutive lines that all have an assign cell form a group whose `=`
//!   are aligned one space after the longest lead; any other line (blank, comment-only,
//!   block header, closing brace, multi-line value) ends the group. Trailing comments of
//!   consecutive lines are aligned the same way after lead and assign.

use super::lexer::{Kind, Token};
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

#[derive(Clone, Debug, Default)]
struct Line {
    lead: Range<usize>,
    assign: Option<Range<usize>>,
    comment: Option<Range<usize>>,
}

/// Rewrites the `spaces` of every token to the canonical layout.
pub fn format(tokens: &mut [Token]) {
    let lines = lines_for_format(tokens);
    format_indent(tokens, &lines);
    format_spaces(tokens, &lines);
    format_cells(tokens, &lines);
}

/// Concatenates the tokens with their spaces.
pub fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        out.extend(std::iter::repeat_n(' ', t.spaces));
        out.push_str(&t.text);
    }
    out
}

fn net_brackets(tokens: &[Token]) -> i32 {
    tokens.iter().map(Token::bracket_change).sum()
}

fn columns(tokens: &[Token], range: &Option<Range<usize>>) -> usize {
    range.as_ref().map_or(0, |r| {
        tokens[r.clone()]
            .iter()
            .map(|t| t.spaces + t.text.graphemes(true).count())
            .sum()
    })
}

fn lines_for_format(tokens: &[Token]) -> Vec<Line> {
    let mut lines = vec![];
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.ends_line() {
            lines.push(Line {
                lead: start..i + 1,
                ..Line::default()
            });
            start = i + 1;
        }
    }
    if start < tokens.len() {
        lines.push(Line {
            lead: start..tokens.len(),
            ..Line::default()
        });
    }
    for line in &mut lines {
        let Range { start, mut end } = line.lead.clone();
        if end - start > 1 && tokens[end - 1].kind == Kind::Comment {
            line.comment = Some(end - 1..end);
            end -= 1;
            line.lead = start..end;
        }
        if let Some(eq) = (start + 1..end).find(|&i| tokens[i].kind == Kind::Equal)
            && net_brackets(&tokens[eq..end]) == 0
        {
            line.assign = Some(eq..end);
            line.lead = start..eq;
        }
    }
    lines
}

fn format_indent(tokens: &mut [Token], lines: &[Line]) {
    let mut indents: Vec<i32> = vec![];
    for line in lines {
        if line.lead.is_empty() {
            continue;
        }
        let first = line.lead.start;
        if tokens[first].kind == Kind::Newline {
            tokens[first].spaces = 0;
            continue;
        }
        let mut net = 0;
        for t in &tokens[line.lead.clone()] {
            net += t.bracket_change();
            if t.kind == Kind::OHeredoc {
                break;
            }
        }
        if let Some(a) = &line.assign {
            net += net_brackets(&tokens[a.clone()]);
        }
        if net > 0 {
            tokens[first].spaces = 2 * indents.len();
            indents.push(net);
            continue;
        }
        let mut closed = -net;
        while closed > 0
            && let Some(top) = indents.last_mut()
        {
            if closed > *top {
                closed -= *top;
                indents.pop();
            } else if closed < *top {
                *top -= closed;
                closed = 0;
            } else {
                indents.pop();
                closed = 0;
            }
        }
        tokens[first].spaces = 2 * indents.len();
    }
}

fn format_spaces(tokens: &mut [Token], lines: &[Line]) {
    for line in lines {
        space_cell(tokens, line.lead.clone());
        if let Some(a) = &line.assign {
            tokens[a.start].spaces = 1;
            space_cell(tokens, a.clone());
        }
    }
}

fn space_cell(tokens: &mut [Token], cell: Range<usize>) {
    for i in cell.clone() {
        if i + 1 >= cell.end {
            continue;
        }
        let before = (i > cell.start).then(|| tokens[i - 1].kind);
        let space = space_after(&tokens[i], before, &tokens[i + 1]);
        tokens[i + 1].spaces = usize::from(space);
    }
}

fn format_cells(tokens: &mut [Token], lines: &[Line]) {
    // `=` first, since moving it moves the trailing comments too.
    align(
        lines,
        |l| l.assign.clone(),
        tokens,
        |t, l| columns(t, &Some(l.lead.clone())),
    );
    align(
        lines,
        |l| l.comment.clone(),
        tokens,
        |t, l| columns(t, &Some(l.lead.clone())) + columns(t, &l.assign),
    );
}

/// Aligns the first token of `cell` over each run of consecutive lines that have one.
fn align(
    lines: &[Line],
    cell: impl Fn(&Line) -> Option<Range<usize>>,
    tokens: &mut [Token],
    width: impl Fn(&[Token], &Line) -> usize,
) {
    let mut chain: Vec<&Line> = vec![];
    let close = |chain: &mut Vec<&Line>, tokens: &mut [Token]| {
        let max = chain.iter().map(|l| width(tokens, l)).max().unwrap_or(0);
        for l in chain.drain(..) {
            let w = width(tokens, l);
            if let Some(c) = cell(l) {
                tokens[c.start].spaces = max - w + 1;
            }
        }
    };
    for line in lines {
        if cell(line).is_some() {
            chain.push(line);
        } else if !chain.is_empty() {
            close(&mut chain, tokens);
        }
    }
    close(&mut chain, tokens);
}

/// Whether `subject` is followed by a space, given the token before it (`None` at the
/// start of a cell) and the one after it.
fn space_after(subject: &Token, before: Option<Kind>, after: &Token) -> bool {
    use Kind::*;
    let s = subject.kind;
    let a = after.kind;
    match () {
        _ if a == Newline => false,
        _ if s == Ident && a == OParen => false,
        _ if (s == Ident && a == DoubleColon) || (s == DoubleColon && a == Ident) => false,
        _ if s == Dot || a == Dot => false,
        _ if a == Comma || a == Ellipsis => false,
        _ if s == Comma => true,
        _ if matches!(s, QuotedLit | StringLit | OQuote | OHeredoc)
            || matches!(a, QuotedLit | StringLit | CQuote | CHeredoc) =>
        {
            false
        }
        _ if s == Ident && subject.text == "in" && before == Some(Ident) => true,
        _ if a == OBrack && (s == Ident || s == NumberLit || subject.bracket_change() < 0) => false,
        _ if s == Bang => false,
        _ if s == Minus => !matches!(
            before,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | GreaterThan
                    | GreaterThanEq
                    | LessThan
                    | LessThanEq
                    | And
                    | Or
                    | Bang
            )
        ),
        _ if s == OBrace || a == CBrace => !(s == OBrace && a == CBrace),
        _ if matches!(s, TemplateInterp | TemplateControl) && a == OBrace => true,
        _ if s == CBrace && a == TemplateSeqEnd => true,
        _ if s == TemplateSeqEnd && matches!(a, TemplateInterp | TemplateControl) => false,
        _ if subject.bracket_change() > 0 => false,
        _ if after.bracket_change() < 0 => false,
        _ => true,
    }
}
