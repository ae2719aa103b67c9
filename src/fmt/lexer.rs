//! A token-level scanner for HCL native syntax, producing the token kinds HCL's own
//! scanner (`hclsyntax`) produces, so the layout passes can reason as `hclwrite` does.
//! Every byte of the input lands in exactly one token except the spaces and tabs between
//! tokens, which the formatter recomputes: concatenating the tokens' text with their
//! `spaces` rebuilds the file.

/// Token kinds, as `hclsyntax` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    OQuote,
    CQuote,
    OHeredoc,
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    DoubleColon,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    QuotedLit,
    StringLit,
    NumberLit,
    Ident,
    Comment,
    Newline,
    Invalid,
}

/// One token: its kind, its exact text, and the spaces written before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub text: String,
    pub spaces: usize,
}

impl Token {
    pub fn new(kind: Kind, text: &str) -> Token {
        Token {
            kind,
            text: text.to_string(),
            spaces: 0,
        }
    }

    /// `+1` for an opening bracket (templates' `${`/`%{` included), `-1` for a closing one.
    pub fn bracket_change(&self) -> i32 {
        match self.kind {
            Kind::OBrace
            | Kind::OBrack
            | Kind::OParen
            | Kind::TemplateControl
            | Kind::TemplateInterp => 1,
            Kind::CBrace | Kind::CBrack | Kind::CParen | Kind::TemplateSeqEnd => -1,
            _ => 0,
        }
    }

    /// A token that ends its line: a newline, or a `#`/`//` comment (which owns its newline).
    pub fn ends_line(&self) -> bool {
        self.kind == Kind::Newline || (self.kind == Kind::Comment && self.text.ends_with('\n'))
    }
}

enum Mode {
    Main,
    Quoted,
    Heredoc { marker: String, start_of_line: bool },
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    spaces: usize,
    braces: i32,
    ret_braces: Vec<i32>,
    modes: Vec<Mode>,
    out: Vec<Token>,
}

/// Splits `src` into tokens. Never fails: what HCL would reject comes out as `Invalid`
/// tokens (the caller parses the file first and refuses invalid input).
pub fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        spaces: 0,
        braces: 0,
        ret_braces: vec![],
        modes: vec![Mode::Main],
        out: vec![],
    };
    while lx.pos < src.len() {
        match lx.modes.last() {
            Some(Mode::Quoted) => lx.quoted(),
            Some(Mode::Heredoc { .. }) => lx.heredoc(),
            _ => lx.main(),
        }
    }
    lx.out
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn emit(&mut self, kind: Kind, len: usize) {
        let text = &self.src[self.pos..self.pos + len];
        self.out.push(Token {
            kind,
            text: text.to_string(),
            spaces: self.spaces,
        });
        self.spaces = 0;
        self.pos += len;
    }

    /// The length of a newline at the start of `s` (`\n` or `\r\n`), if any.
    fn newline_len(s: &str) -> Option<usize> {
        if s.starts_with('\n') {
            Some(1)
        } else if s.starts_with("\r\n") {
            Some(2)
        } else {
            None
        }
    }

    /// The end of the current line, its newline included.
    fn line_end_incl(&self) -> usize {
        match self.rest().find('\n') {
            Some(i) => i + 1,
            None => self.rest().len(),
        }
    }

    fn begin_template_seq(&mut self, kind: Kind, len: usize) {
        self.emit(kind, len);
        self.braces += 1;
        self.ret_braces.push(self.braces);
        self.modes.push(Mode::Main);
    }

    fn main(&mut self) {
        let rest = self.rest();
        let c = rest.chars().next().unwrap_or('\0');
        if c == ' ' || c == '\t' {
            self.spaces += 1;
            self.pos += 1;
            return;
        }
        if let Some(n) = Self::newline_len(rest) {
            return self.emit(Kind::Newline, n);
        }
        if rest.starts_with('#') || rest.starts_with("//") {
            let n = self.line_end_incl();
            return self.emit(Kind::Comment, n);
        }
        if let Some(body) = rest.strip_prefix("/*") {
            let n = body.find("*/").map(|i| i + 4).unwrap_or(rest.len());
            return self.emit(Kind::Comment, n);
        }
        if rest.starts_with("<<")
            && let Some(n) = heredoc_opener(rest)
        {
            let marker = rest[2..n]
                .trim_start_matches('-')
                .trim_end_matches(['\r', '\n'])
                .to_string();
            self.emit(Kind::OHeredoc, n);
            self.modes.push(Mode::Heredoc {
                marker,
                start_of_line: true,
            });
            return;
        }
        let closes_seq = self.ret_braces.last() == Some(&self.braces);
        if rest.starts_with('}') || (closes_seq && rest.starts_with("~}")) {
            if closes_seq {
                let n = if rest.starts_with('~') { 2 } else { 1 };
                self.emit(Kind::TemplateSeqEnd, n);
                self.braces -= 1;
                self.ret_braces.pop();
                self.modes.pop();
            } else {
                self.emit(Kind::CBrace, 1);
                self.braces -= 1;
            }
            return;
        }
        if c == '{' {
            self.braces += 1;
            return self.emit(Kind::OBrace, 1);
        }
        if c == '"' {
            self.emit(Kind::OQuote, 1);
            self.modes.push(Mode::Quoted);
            return;
        }
        if c.is_ascii_digit() {
            return self.emit(Kind::NumberLit, number_len(rest));
        }
        if is_ident_start(c) {
            let n = rest
                .char_indices()
                .find(|&(_, ch)| !is_ident_continue(ch))
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            return self.emit(Kind::Ident, n);
        }
        const PUNCT: &[(&str, Kind)] = &[
            ("...", Kind::Ellipsis),
            ("==", Kind::EqualOp),
            ("!=", Kind::NotEqual),
            ("<=", Kind::LessThanEq),
            (">=", Kind::GreaterThanEq),
            ("&&", Kind::And),
            ("||", Kind::Or),
            ("=>", Kind::FatArrow),
            ("::", Kind::DoubleColon),
            ("[", Kind::OBrack),
            ("]", Kind::CBrack),
            ("(", Kind::OParen),
            (")", Kind::CParen),
            ("*", Kind::Star),
            ("/", Kind::Slash),
            ("+", Kind::Plus),
            ("-", Kind::Minus),
            ("%", Kind::Percent),
            ("=", Kind::Equal),
            ("<", Kind::LessThan),
            (">", Kind::GreaterThan),
            ("!", Kind::Bang),
            (".", Kind::Dot),
            (",", Kind::Comma),
            ("?", Kind::Question),
            (":", Kind::Colon),
        ];
        for (p, kind) in PUNCT {
            if rest.starts_with(p) {
                return self.emit(*kind, p.len());
            }
        }
        self.emit(Kind::Invalid, c.len_utf8().max(1));
    }

    /// Inside `"..."`: literal runs, `${`/`%{` sequences, the closing quote.
    fn quoted(&mut self) {
        let rest = self.rest();
        if rest.starts_with('"') {
            self.emit(Kind::CQuote, 1);
            self.modes.pop();
            return;
        }
        if let Some(n) = Self::newline_len(rest) {
            // Not valid HCL (refused before formatting); end the string here.
            self.modes.pop();
            return self.emit(Kind::Newline, n);
        }
        if let Some(n) = seq_opener(rest, "${") {
            return self.begin_template_seq(Kind::TemplateInterp, n);
        }
        if let Some(n) = seq_opener(rest, "%{") {
            return self.begin_template_seq(Kind::TemplateControl, n);
        }
        let mut i = 0;
        let b = rest.as_bytes();
        while i < b.len() {
            let r = &rest[i..];
            if r.starts_with('"')
                || r.starts_with('\n')
                || r.starts_with("\r\n")
                || r.starts_with("${")
                || r.starts_with("%{")
            {
                break;
            }
            if r.starts_with("$${") || r.starts_with("%%{") {
                i += 3;
            } else if let Some(escaped) = r.strip_prefix('\\') {
                i += 1 + escaped.chars().next().map(char::len_utf8).unwrap_or(0);
            } else {
                i += r.chars().next().map(char::len_utf8).unwrap_or(1);
            }
        }
        self.emit(Kind::QuotedLit, i);
    }

    /// Inside a heredoc: whole literal lines, sequences, and the closing marker line.
    fn heredoc(&mut self) {
        let Some(Mode::Heredoc {
            marker,
            start_of_line,
        }) = self.modes.last()
        else {
            return;
        };
        let rest = self.rest();
        if *start_of_line {
            let line_len = rest.find('\n').unwrap_or(rest.len());
            let line = rest[..line_len].trim_end_matches('\r');
            if line.trim() == marker {
                let len = line.len();
                self.emit(Kind::CHeredoc, len);
                self.modes.pop();
                if let Some(n) = Self::newline_len(self.rest()) {
                    self.emit(Kind::Newline, n);
                }
                return;
            }
        }
        if let Some(n) = seq_opener(rest, "${") {
            self.set_start_of_line(false);
            return self.begin_template_seq(Kind::TemplateInterp, n);
        }
        if let Some(n) = seq_opener(rest, "%{") {
            self.set_start_of_line(false);
            return self.begin_template_seq(Kind::TemplateControl, n);
        }
        let mut i = 0;
        let mut eol = false;
        while i < rest.len() {
            let r = &rest[i..];
            if r.starts_with("$${") || r.starts_with("%%{") {
                i += 3;
                continue;
            }
            if r.starts_with("${") || r.starts_with("%{") {
                break;
            }
            if r.starts_with('\n') {
                i += 1;
                eol = true;
                break;
            }
            i += r.chars().next().map(char::len_utf8).unwrap_or(1);
        }
        self.set_start_of_line(eol);
        self.emit(Kind::StringLit, i);
    }

    fn set_start_of_line(&mut self, value: bool) {
        if let Some(Mode::Heredoc { start_of_line, .. }) = self.modes.last_mut() {
            *start_of_line = value;
        }
    }
}

/// `${` or `${~` (and the same for `%{`) at the start of `s`, unless escaped by doubling.
fn seq_opener(s: &str, open: &str) -> Option<usize> {
    if !s.starts_with(open) {
        return None;
    }
    Some(if s[2..].starts_with('~') { 3 } else { 2 })
}

/// The length of `<<EOT\n` / `<<-EOT\r\n` at the start of `s`, if it is a heredoc opener.
fn heredoc_opener(s: &str) -> Option<usize> {
    let mut i = 2;
    if s[i..].starts_with('-') {
        i += 1;
    }
    let first = s[i..].chars().next()?;
    if !is_ident_start(first) {
        return None;
    }
    let ident = s[i..]
        .char_indices()
        .find(|&(_, ch)| !is_ident_continue(ch))
        .map(|(j, _)| j)
        .unwrap_or(s.len() - i);
    i += ident;
    let nl = Lexer::newline_len(&s[i..])?;
    Some(i + nl)
}

/// `digits ('.' digits)? ([eE] [+-]? digits)?`
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let mut i = digits(0);
    if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i = digits(i + 1);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = digits(j);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        lex(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens_rebuild_the_source_without_blanks() {
        let src = "a = \"x${b.c}y\" # c\n  d = <<-EOT\n  hi ${e}\n  EOT\n";
        let joined: String = lex(src).iter().map(|t| t.text.as_str()).collect();
        let squeezed: String = src.chars().filter(|c| *c != ' ').collect();
        assert_eq!(joined.replace(' ', ""), squeezed);
    }

    #[test]
    fn templates_and_heredocs() {
        use Kind::*;
        assert_eq!(
            kinds("a = \"x${b}\"\n"),
            vec![
                Ident,
                Equal,
                OQuote,
                QuotedLit,
                TemplateInterp,
                Ident,
                TemplateSeqEnd,
                CQuote,
                Newline
            ]
        );
        assert_eq!(
            kinds("a = <<EOT\nx ${ {} }\nEOT\n"),
            vec![
                Ident,
                Equal,
                OHeredoc,
                StringLit,
                TemplateInterp,
                OBrace,
                CBrace,
                TemplateSeqEnd,
                StringLit,
                CHeredoc,
                Newline
            ]
        );
        assert_eq!(
            kinds("a = \"$${x}\" # c\n"),
            vec![Ident, Equal, OQuote, QuotedLit, CQuote, Comment]
        );
        let t = lex("x = \"${~ a ~}\"");
        assert_eq!(t[3].text, "${~");
        assert_eq!(t[5].text, "~}");
    }

    #[test]
    fn numbers_operators_and_idents() {
        use Kind::*;
        assert_eq!(
            kinds("a-b >= 1.5e3 ... x.0 => !y"),
            vec![
                Ident,
                GreaterThanEq,
                NumberLit,
                Ellipsis,
                Ident,
                Dot,
                NumberLit,
                FatArrow,
                Bang,
                Ident
            ]
        );
    }
}
