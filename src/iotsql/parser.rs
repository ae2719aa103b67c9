//! Tokens and the syntax tree of an AWS IoT SQL statement, parsed by recursive descent.
//! The lexer reads on demand, so a substitution template's `${expr}` is parsed by the
//! same expression parser and ends at its closing brace.

use super::value::V;
use super::{SqlError, Version};

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Lit(V),
    /// A field of the current document (the payload, or an element in a nested SELECT).
    Field(String),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// A function call; `*` as an argument (`encode(*, 'base64')`) is `Expr::Star`.
    Call(String, Vec<Expr>),
    /// `cast(expr AS Type)`.
    Cast(Box<Expr>, String),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Object(Vec<(String, Expr)>),
    Array(Vec<Expr>),
    /// A nested SELECT (SQL 2016-03-23).
    Sub(Box<Select>),
    Star,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    In,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Star,
    Expr { expr: Expr, alias: Option<String> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum From {
    /// The top-level statement's topic filter.
    Topic(String),
    /// A nested SELECT's source: an expression over the enclosing document.
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub value: bool,
    pub items: Vec<Item>,
    pub from: From,
    pub where_: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Dec(f64),
    Sym(&'static str),
    End,
}

pub struct Parser<'a> {
    src: &'a str,
    pos: usize,
    peeked: Option<(Tok, usize, usize)>,
    version: Version,
}

const SYMS: &[&str] = &[
    "<>", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}",
    ",", ".", ":",
];

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, pos: usize, version: Version) -> Parser<'a> {
        Parser {
            src,
            pos,
            peeked: None,
            version,
        }
    }

    fn err<T>(&self, at: usize, msg: impl Into<String>) -> Result<T, SqlError> {
        Err(SqlError {
            offset: at,
            message: msg.into(),
        })
    }

    fn lex(&mut self) -> Result<(Tok, usize, usize), SqlError> {
        let b = self.src.as_bytes();
        let mut i = self.pos;
        while i < b.len() && (b[i] as char).is_whitespace() {
            i += 1;
        }
        let start = i;
        if i >= b.len() {
            return Ok((Tok::End, start, start));
        }
        let c = b[i] as char;
        if c == '\'' || c == '"' {
            let mut s = String::new();
            let mut chars = self.src[i + 1..].char_indices();
            loop {
                match chars.next() {
                    None => {
                        return self.err(start, format!("unterminated string starting with {c}"));
                    }
                    Some((j, ch)) if ch == c => {
                        // A doubled quote is a literal quote.
                        if self.src[i + 1 + j + 1..].starts_with(c) {
                            s.push(c);
                            chars.next();
                            continue;
                        }
                        return Ok((Tok::Str(s), start, i + 1 + j + 1));
                    }
                    Some((_, '\\')) if c == '"' => {
                        if let Some((_, n)) = chars.next() {
                            s.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    Some((_, ch)) => s.push(ch),
                }
            }
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let mut dec = false;
            if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
                dec = true;
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    dec = true;
                    j = k;
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                }
            }
            let text = &self.src[i..j];
            let tok = if dec {
                Tok::Dec(text.parse().unwrap_or(f64::NAN))
            } else {
                match text.parse::<i64>() {
                    Ok(n) => Tok::Int(n),
                    Err(_) => Tok::Dec(text.parse().unwrap_or(f64::NAN)),
                }
            };
            return Ok((tok, start, j));
        }
        if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            let mut j = i;
            while j < b.len()
                && ((b[j] as char).is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'$')
            {
                j += 1;
            }
            return Ok((Tok::Ident(self.src[i..j].to_string()), start, j));
        }
        if c == '`' {
            let Some(end) = self.src[i + 1..].find('`') else {
                return self.err(start, "unterminated `quoted` name");
            };
            return Ok((
                Tok::Ident(self.src[i + 1..i + 1 + end].to_string()),
                start,
                i + end + 2,
            ));
        }
        for s in SYMS {
            if self.src[i..].starts_with(s) {
                return Ok((Tok::Sym(s), start, i + s.len()));
            }
        }
        let ch = self.src[i..].chars().next().unwrap_or(' ');
        self.err(start, format!("unexpected character `{ch}`"))
    }

    fn peek(&mut self) -> Result<&Tok, SqlError> {
        if self.peeked.is_none() {
            let t = self.lex()?;
            self.peeked = Some(t);
        }
        Ok(&self.peeked.as_ref().expect("peeked").0)
    }

    fn peek_start(&mut self) -> Result<usize, SqlError> {
        self.peek()?;
        Ok(self.peeked.as_ref().expect("peeked").1)
    }

    fn next(&mut self) -> Result<(Tok, usize), SqlError> {
        self.peek()?;
        let (t, s, e) = self.peeked.take().expect("peeked");
        self.pos = e;
        Ok((t, s))
    }

    /// The offset just after the last token taken.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn is_kw(&mut self, kw: &str) -> Result<bool, SqlError> {
        Ok(matches!(self.peek()?, Tok::Ident(s) if s.eq_ignore_ascii_case(kw)))
    }

    fn eat_kw(&mut self, kw: &str) -> Result<bool, SqlError> {
        if self.is_kw(kw)? {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SqlError> {
        if !self.eat_kw(kw)? {
            let at = self.peek_start()?;
            let found = self.describe()?;
            return self.err(at, format!("expected {kw}, found {found}"));
        }
        Ok(())
    }

    fn is_sym(&mut self, s: &str) -> Result<bool, SqlError> {
        Ok(matches!(self.peek()?, Tok::Sym(x) if *x == s))
    }

    fn eat_sym(&mut self, s: &str) -> Result<bool, SqlError> {
        if self.is_sym(s)? {
            self.next()?;
            return Ok(true);
        }
        Ok(false)
    }

    pub fn expect_sym(&mut self, s: &str) -> Result<(), SqlError> {
        if !self.eat_sym(s)? {
            let at = self.peek_start()?;
            let found = self.describe()?;
            return self.err(at, format!("expected `{s}`, found {found}"));
        }
        Ok(())
    }

    fn describe(&mut self) -> Result<String, SqlError> {
        Ok(match self.peek()? {
            Tok::End => "the end of the statement".into(),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Int(n) => n.to_string(),
            Tok::Dec(f) => f.to_string(),
            Tok::Sym(s) => format!("`{s}`"),
        })
    }

    /// A whole statement: `SELECT ... FROM 'topic/filter' [WHERE ...]`.
    pub fn statement(&mut self) -> Result<Select, SqlError> {
        let sel = self.select(true)?;
        if !matches!(self.peek()?, Tok::End) {
            let at = self.peek_start()?;
            let found = self.describe()?;
            return self.err(at, format!("unexpected {found} after the statement"));
        }
        Ok(sel)
    }

    fn select(&mut self, top: bool) -> Result<Select, SqlError> {
        self.expect_kw("SELECT")?;
        let value = self.eat_kw("VALUE")?;
        let mut items = vec![];
        loop {
            if self.eat_sym("*")? {
                items.push(Item::Star);
            } else {
                let expr = self.expr()?;
                let alias = if self.eat_kw("AS")? {
                    Some(self.alias()?)
                } else {
                    None
                };
                items.push(Item::Expr { expr, alias });
            }
            if !self.eat_sym(",")? {
                break;
            }
        }
        if value && items.len() != 1 {
            return self.err(self.pos, "SELECT VALUE takes exactly one item");
        }
        if value && items[0] == Item::Star {
            return self.err(self.pos, "SELECT VALUE takes an expression, not *");
        }
        self.expect_kw("FROM")?;
        let from = if top {
            let at = self.peek_start()?;
            match self.next()? {
                (Tok::Str(t), _) => From::Topic(t),
                _ => {
                    return self.err(
                        at,
                        "FROM takes a topic filter in single quotes, e.g. FROM 'sensors/+/data'",
                    );
                }
            }
        } else {
            From::Expr(self.postfix()?)
        };
        let where_ = if self.eat_kw("WHERE")? {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Select {
            value,
            items,
            from,
            where_,
        })
    }

    fn alias(&mut self) -> Result<String, SqlError> {
        let at = self.peek_start()?;
        let mut name = match self.next()? {
            (Tok::Ident(s), _) | (Tok::Str(s), _) => s,
            _ => return self.err(at, "expected a name after AS"),
        };
        while self.eat_sym(".")? {
            match self.next()? {
                (Tok::Ident(s), _) => {
                    name.push('.');
                    name.push_str(&s);
                }
                (_, at) => return self.err(at, "expected a name after `.` in the alias"),
            }
        }
        Ok(name)
    }

    pub fn expr(&mut self) -> Result<Expr, SqlError> {
        self.or()
    }

    fn or(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.and()?;
        while self.eat_kw("OR")? {
            let r = self.and()?;
            l = Expr::Bin(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.not()?;
        while self.eat_kw("AND")? {
            let r = self.not()?;
            l = Expr::Bin(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr, SqlError> {
        if self.eat_kw("NOT")? {
            let e = self.not()?;
            return Ok(Expr::Unary(UnOp::Not, Box::new(e)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SqlError> {
        let l = self.additive()?;
        let op = match self.peek()? {
            Tok::Sym("=") => BinOp::Eq,
            Tok::Sym("<>") | Tok::Sym("!=") => BinOp::Ne,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym(">=") => BinOp::Ge,
            Tok::Ident(s) if s.eq_ignore_ascii_case("IN") => BinOp::In,
            _ => return Ok(l),
        };
        self.next()?;
        let r = self.additive()?;
        Ok(Expr::Bin(op, Box::new(l), Box::new(r)))
    }

    fn additive(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+")? {
                BinOp::Add
            } else if self.eat_sym("-")? {
                BinOp::Sub
            } else {
                return Ok(l);
            };
            let r = self.multiplicative()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SqlError> {
        let mut l = self.unary()?;
        loop {
            let op = if self.eat_sym("*")? {
                BinOp::Mul
            } else if self.eat_sym("/")? {
                BinOp::Div
            } else if self.eat_sym("%")? {
                BinOp::Mod
            } else {
                return Ok(l);
            };
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, SqlError> {
        if self.eat_sym("-")? {
            let e = self.unary()?;
            return Ok(match e {
                Expr::Lit(V::Int(n)) => Expr::Lit(V::Int(-n)),
                Expr::Lit(V::Dec(f)) => Expr::Lit(V::Dec(-f)),
                e => Expr::Unary(UnOp::Neg, Box::new(e)),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, SqlError> {
        let mut e = self.primary()?;
        loop {
            if self.eat_sym(".")? {
                let at = self.peek_start()?;
                match self.next()? {
                    (Tok::Ident(s), _) => e = Expr::Member(Box::new(e), s),
                    (Tok::Int(n), _) => e = Expr::Member(Box::new(e), n.to_string()),
                    _ => return self.err(at, "expected a field name after `.`"),
                }
            } else if self.eat_sym("[")? {
                let i = self.expr()?;
                self.expect_sym("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SqlError> {
        let at = self.peek_start()?;
        let (tok, _) = self.next()?;
        match tok {
            Tok::Int(n) => Ok(Expr::Lit(V::Int(n))),
            Tok::Dec(f) => Ok(Expr::Lit(V::Dec(f))),
            Tok::Str(s) => Ok(Expr::Lit(V::Str(s))),
            Tok::Sym("(") => {
                if self.is_kw("SELECT")? {
                    if self.version == Version::V2015_10_08 {
                        return self.err(
                            at,
                            "nested SELECT queries need sql_version 2016-03-23 (not supported by 2015-10-08)",
                        );
                    }
                    let s = self.select(false)?;
                    self.expect_sym(")")?;
                    return Ok(Expr::Sub(Box::new(s)));
                }
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Sym("[") => {
                let mut items = vec![];
                if !self.eat_sym("]")? {
                    loop {
                        items.push(self.expr()?);
                        if !self.eat_sym(",")? {
                            break;
                        }
                    }
                    self.expect_sym("]")?;
                }
                Ok(Expr::Array(items))
            }
            Tok::Sym("{") => {
                let mut items = vec![];
                if !self.eat_sym("}")? {
                    loop {
                        let kat = self.peek_start()?;
                        let key = match self.next()? {
                            (Tok::Str(s), _) | (Tok::Ident(s), _) => s,
                            _ => return self.err(kat, "expected a key in the object literal"),
                        };
                        self.expect_sym(":")?;
                        items.push((key, self.expr()?));
                        if !self.eat_sym(",")? {
                            break;
                        }
                    }
                    self.expect_sym("}")?;
                }
                Ok(Expr::Object(items))
            }
            Tok::Ident(name) => {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => return Ok(Expr::Lit(V::Bool(true))),
                    "false" => return Ok(Expr::Lit(V::Bool(false))),
                    "null" => return Ok(Expr::Lit(V::Null)),
                    "case" => return self.case(),
                    "select" | "from" | "where" | "as" | "and" | "or" | "not" | "when" | "then"
                    | "else" | "end" => {
                        return self.err(at, format!("unexpected keyword {name}"));
                    }
                    _ => {}
                }
                if self.eat_sym("(")? {
                    return self.call(lower, at);
                }
                Ok(Expr::Field(name))
            }
            Tok::End => self.err(at, "unexpected end of the statement"),
            Tok::Sym(s) => self.err(at, format!("unexpected `{s}`")),
        }
    }

    fn call(&mut self, name: String, at: usize) -> Result<Expr, SqlError> {
        if name == "cast" {
            let e = self.expr()?;
            self.expect_kw("AS")?;
            let tat = self.peek_start()?;
            let ty = match self.next()? {
                (Tok::Ident(t), _) => t,
                _ => {
                    return self.err(
                        tat,
                        "cast(expr AS type) needs a type: Int, Decimal, Boolean or String",
                    );
                }
            };
            let canon = match ty.to_ascii_lowercase().as_str() {
                "int" => "Int",
                "decimal" => "Decimal",
                "boolean" | "bool" => "Boolean",
                "string" => "String",
                _ => {
                    return self.err(
                        tat,
                        format!("cast to {ty}: the types are Int, Decimal, Boolean and String"),
                    );
                }
            };
            self.expect_sym(")")?;
            return Ok(Expr::Cast(Box::new(e), canon.to_string()));
        }
        let mut args = vec![];
        if !self.eat_sym(")")? {
            loop {
                if self.eat_sym("*")? {
                    args.push(Expr::Star);
                } else {
                    args.push(self.expr()?);
                }
                if !self.eat_sym(",")? {
                    break;
                }
            }
            self.expect_sym(")")?;
        }
        super::functions::check_call(&name, args.len(), self.version).map_err(|m| SqlError {
            offset: at,
            message: m,
        })?;
        Ok(Expr::Call(name, args))
    }

    fn case(&mut self) -> Result<Expr, SqlError> {
        let operand = if self.is_kw("WHEN")? {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = vec![];
        while self.eat_kw("WHEN")? {
            let w = self.expr()?;
            self.expect_kw("THEN")?;
            whens.push((w, self.expr()?));
        }
        if whens.is_empty() {
            let at = self.peek_start()?;
            return self.err(at, "CASE needs at least one WHEN ... THEN ...");
        }
        let otherwise = if self.eat_kw("ELSE")? {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        Ok(Expr::Case {
            operand,
            whens,
            otherwise,
        })
    }
}
