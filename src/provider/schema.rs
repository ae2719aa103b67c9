//! Resource schemas: which attributes a type has, their types, and which of them
//! are required, computed, sensitive or force a replacement.

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    String,
    Number,
    Bool,
    List(Box<Ty>),
    /// A list whose order does not matter; compared sorted.
    Set(Box<Ty>),
    Map(Box<Ty>),
    /// A string holding a JSON document (policies); compared semantically.
    Json,
    Any,
}

impl Ty {
    pub fn describe(&self) -> String {
        match self {
            Ty::String => "string".into(),
            Ty::Number => "number".into(),
            Ty::Bool => "bool".into(),
            Ty::List(t) => format!("list({})", t.describe()),
            Ty::Set(t) => format!("set({})", t.describe()),
            Ty::Map(t) => format!("map({})", t.describe()),
            Ty::Json => "string (JSON)".into(),
            Ty::Any => "any".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Set by AWS when not given in the configuration.
    pub computed: bool,
    /// Changing it replaces the resource.
    pub force_new: bool,
    pub sensitive: bool,
    /// Value used when the configuration leaves the attribute out.
    pub default: Option<Json>,
    /// Kept only in state (not read back from AWS), e.g. `force_destroy`.
    pub local_only: bool,
    /// Set only by AWS; the configuration may not set it.
    pub output: bool,
}

impl Attr {
    fn new(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            required: false,
            computed: false,
            force_new: false,
            sensitive: false,
            default: None,
            local_only: false,
            output: false,
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn default(mut self, v: Json) -> Self {
        self.default = Some(v);
        self
    }
    pub fn local_only(mut self) -> Self {
        self.local_only = true;
        self
    }
}

pub fn string(name: &'static str) -> Attr {
    Attr::new(name, Ty::String)
}
pub fn number(name: &'static str) -> Attr {
    Attr::new(name, Ty::Number)
}
pub fn boolean(name: &'static str) -> Attr {
    Attr::new(name, Ty::Bool)
}
pub fn json(name: &'static str) -> Attr {
    Attr::new(name, Ty::Json)
}
pub fn string_map(name: &'static str) -> Attr {
    Attr::new(name, Ty::Map(Box::new(Ty::String)))
}
pub fn string_list(name: &'static str) -> Attr {
    Attr::new(name, Ty::List(Box::new(Ty::String)))
}
pub fn string_set(name: &'static str) -> Attr {
    Attr::new(name, Ty::Set(Box::new(Ty::String)))
}
/// An attribute AWS computes and the configuration may not set.
pub fn out(name: &'static str) -> Attr {
    let mut a = Attr::new(name, Ty::String);
    a.computed = true;
    a.output = true;
    a
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub block: Block,
    pub min: usize,
    /// 0 means unlimited.
    pub max: usize,
    pub force_new: bool,
    /// Order of the blocks does not matter (compared sorted).
    pub set: bool,
}

impl NestedBlock {
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn set(mut self) -> Self {
        self.set = true;
        self
    }
    pub fn min(mut self, n: usize) -> Self {
        self.min = n;
        self
    }
}

/// At most one nested block.
pub fn single(name: &'static str, block: Block) -> NestedBlock {
    NestedBlock {
        name,
        block,
        min: 0,
        max: 1,
        force_new: false,
        set: false,
    }
}
/// Any number of nested blocks, in order.
pub fn list(name: &'static str, block: Block) -> NestedBlock {
    NestedBlock {
        name,
        block,
        min: 0,
        max: 0,
        force_new: false,
        set: false,
    }
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new() -> Self {
        Block::default()
    }
    pub fn attr(mut self, a: Attr) -> Self {
        self.attrs.push(a);
        self
    }
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }
    pub fn get_attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
    pub fn get_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attrs
            .iter()
            .map(|a| a.name)
            .chain(self.blocks.iter().map(|b| b.name))
    }
}

/// The schema of one resource type.
#[derive(Clone, Debug)]
pub struct Schema {
    pub block: Block,
    /// The attribute naming the AWS object, shown in progress messages (`id=...`).
    pub id_attr: &'static str,
}
