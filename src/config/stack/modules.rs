//! Module calls: child modules loaded from local directories and expanded into module
//! instances (their `count`/`for_each` keys known at plan time), the names each
//! instance's expressions see, and the input variables and outputs that connect an
//! instance to its caller.

use super::namespace::default_value;
use super::{Expansion, Stack};
use crate::address::{InstanceKey, ModuleInstance, ResourceId};
use crate::config::eval::Scope;
use crate::config::{Attr, Module, ModuleCall, load_dir};
use crate::diag::{Diagnostic, Diagnostics, did_you_mean};
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// How deep modules may nest (Terraform has no limit; a deeper tree is a mistake).
const MAX_DEPTH: usize = 16;

/// One module instance: the module it instantiates and how it was called.
#[derive(Clone, Debug)]
pub struct ModInst {
    pub def: Arc<Module>,
    pub call: ModuleCall,
    /// `count.index` (as the key) or `each.key`/`each.value` for this instance's
    /// call arguments.
    pub each: Option<(Value, Value)>,
    /// The module's provider configurations (None: its default) -> the root module's.
    pub providers: ProviderMap,
}

/// Provider configurations a module can use (None: the default `aws`) -> the root
/// module's configuration each one is (None: the root's default).
pub type ProviderMap = BTreeMap<Option<String>, Option<String>>;

impl ModInst {
    /// The `count` or `each` object the call's arguments see for this instance.
    pub(super) fn binding(&self) -> Option<(&'static str, Value)> {
        let (k, v) = self.each.as_ref()?;
        Some(super::instances::binding(self.call.count.is_some(), k, v))
    }
}

/// Child modules already loaded, by directory (a module used by many calls is read
/// once), and the directories of the modules being expanded (a module that contains
/// itself is an error).
#[derive(Default)]
struct Loader {
    cache: BTreeMap<PathBuf, Arc<Module>>,
    chain: Vec<PathBuf>,
}

impl Stack {
    /// The module that module instance `m` instantiates.
    pub fn def(&self, m: &ModuleInstance) -> &Arc<Module> {
        match self.modules.get(m) {
            Some(i) => &i.def,
            None => &self.module,
        }
    }

    /// The directory of module instance `m` (relative paths in it resolve there).
    pub fn dir_of(&self, m: &ModuleInstance) -> &Path {
        &self.def(m).dir
    }

    /// Every module instance, the root first, parents before their children.
    pub fn module_instances(&self) -> Vec<ModuleInstance> {
        std::iter::once(ModuleInstance::root())
            .chain(self.modules.keys().cloned())
            .collect()
    }

    /// The instances of the module call `call` declared in `m`.
    pub fn instances_of_call<'a>(
        &'a self,
        m: &'a ModuleInstance,
        call: &'a str,
    ) -> impl Iterator<Item = &'a ModuleInstance> + 'a {
        let depth = m.0.len();
        self.modules
            .range(m.child(call, None)..)
            .map(|(k, _)| k)
            .take_while(move |k| k.0.len() > depth && k.starts_with(m) && k.0[depth].0 == call)
            .filter(move |k| k.0.len() == depth + 1)
    }

    /// Every resource declared in module instance `m` or below it.
    pub fn resources_under<'a>(
        &'a self,
        m: &'a ModuleInstance,
    ) -> impl Iterator<Item = &'a ResourceId> + 'a {
        let start = ResourceId {
            module: m.clone(),
            mode: crate::address::Mode::Managed,
            rtype: String::new(),
            name: String::new(),
        };
        self.resources
            .range(start..)
            .map(|(k, _)| k)
            .take_while(move |k| k.module.starts_with(m))
    }

    /// Loads every module call, recursively, and expands it into instances.
    pub(super) fn expand_modules(&mut self, diags: &mut Diagnostics) {
        let root = self.module.clone();
        let mut providers: ProviderMap = [(None, None)].into();
        for alias in root.provider_aliases.keys() {
            providers.insert(Some(alias.clone()), Some(alias.clone()));
        }
        for (id, rc) in &root.resources {
            let mut rc = rc.clone();
            rc.provider_config = resolve_provider(&rc, &providers, "this stack", diags);
            self.resources.insert(id.clone(), rc);
        }
        let mut loader = Loader {
            chain: vec![lexical(&root.dir)],
            ..Default::default()
        };
        let vars = self.vars.clone();
        self.expand_calls(
            &ModuleInstance::root(),
            &root,
            vars,
            &providers,
            &mut loader,
            diags,
        );
    }

    fn expand_calls(
        &mut self,
        m: &ModuleInstance,
        def: &Arc<Module>,
        vars: BTreeMap<String, Value>,
        providers: &ProviderMap,
        loader: &mut Loader,
        diags: &mut Diagnostics,
    ) {
        if def.module_calls.is_empty() {
            return;
        }
        // A call's count/for_each may use another call's instances (`for_each =
        // module.site`): expand in passes until no call makes progress.
        let mut keys: BTreeMap<String, Vec<Expansion>> = BTreeMap::new();
        let mut errors: BTreeMap<String, Diagnostic> = BTreeMap::new();
        loop {
            let scope = self.static_scope(m, def, &vars, &keys);
            let before = keys.len();
            for call in def.module_calls.values() {
                if keys.contains_key(&call.name) {
                    continue;
                }
                match super::instances::expand_meta(
                    call.count.as_ref(),
                    call.for_each.as_ref(),
                    &scope,
                ) {
                    Ok(e) => {
                        keys.insert(call.name.clone(), e);
                        errors.remove(&call.name);
                    }
                    Err(d) => {
                        errors.insert(call.name.clone(), d);
                    }
                }
            }
            if keys.len() == before {
                break;
            }
        }
        for d in errors.into_values() {
            diags.push(d);
        }
        let scope = self.static_scope(m, def, &vars, &keys);
        for call in def.module_calls.values() {
            let Some(exps) = keys.get(&call.name) else {
                continue;
            };
            let Some(child) = load_child(def, call, loader, diags) else {
                continue;
            };
            check_arguments(call, &child, diags);
            let child_providers = pass_providers(call, providers, diags);
            let what = format!("module \"{}\" ({})", call.name, call.source);
            for exp in exps {
                let inst = ModInst {
                    def: child.clone(),
                    call: call.clone(),
                    each: exp.each.clone(),
                    providers: child_providers.clone(),
                };
                let path = m.child(&call.name, exp.key.clone());
                let child_vars = static_inputs(&scope, &inst);
                for rc in child.resources.values() {
                    let mut rc = rc.clone();
                    rc.provider_config = resolve_provider(&rc, &child_providers, &what, diags);
                    rc.id = rc.id.in_module(&path);
                    for (d, _) in rc.depends_on.iter_mut() {
                        d.module = path.clone();
                    }
                    self.resources.insert(rc.id.clone(), rc);
                }
                self.modules.insert(path.clone(), inst);
                loader.chain.push(lexical(&child.dir));
                self.expand_calls(&path, &child, child_vars, &child_providers, loader, diags);
                loader.chain.pop();
            }
        }
    }

    /// A scope for expanding module calls before anything is read or created: the
    /// variables as far as they are known, locals, and the instance keys of resources
    /// and module calls (their attributes unknown).
    fn static_scope(
        &self,
        m: &ModuleInstance,
        def: &Module,
        vars: &BTreeMap<String, Value>,
        calls: &BTreeMap<String, Vec<Expansion>>,
    ) -> Scope {
        let mut s = Scope::new(def.dir.clone());
        self.base_roots(&mut s, def);
        s.roots.insert("var".into(), Value::Map(vars.clone()));
        let module = s.root_map("module");
        for (name, exps) in calls {
            let call = &def.module_calls[name];
            module.insert(
                name.clone(),
                shape(call.count.is_some(), call.for_each.is_some(), exps),
            );
        }
        // Locals may use resources' keys and resources' keys may use locals: a few
        // rounds settle every chain a configuration writes in practice.
        for _ in 0..3 {
            for (n, a) in &def.locals {
                let v = s.eval(&a.expr).unwrap_or(Value::Unknown);
                s.root_map("local").insert(n.clone(), v);
            }
            for rc in def.resources.values() {
                let v = match super::instances::expand_meta(
                    rc.count.as_ref(),
                    rc.for_each.as_ref(),
                    &s,
                ) {
                    Ok(e) => shape(rc.count.is_some(), rc.for_each.is_some(), &e),
                    Err(_) => Value::Unknown,
                };
                super::instances::put_resource(&mut s, &rc.id, v);
            }
        }
        let _ = m;
        s
    }
}

/// The configurations a call passes to its module: its `providers` map, or (without
/// one) the caller's default, as Terraform's implicit inheritance.
fn pass_providers(call: &ModuleCall, caller: &ProviderMap, diags: &mut Diagnostics) -> ProviderMap {
    if call.providers.is_empty() {
        return [(None, caller.get(&None).cloned().flatten())].into();
    }
    let mut out = ProviderMap::new();
    for (child, parent, loc) in &call.providers {
        match caller.get(parent) {
            Some(root) => {
                out.insert(child.clone(), root.clone());
            }
            None => diags.push(Diagnostic::error(
                "Reference to undefined provider",
                format!(
                    "module \"{}\" is passed {}, which is not configured here. Declare provider \"aws\" {{ alias = \"{}\" ... }} in the root module.",
                    call.name,
                    provider_name(parent),
                    parent.as_deref().unwrap_or_default()
                ),
                Some(loc),
            )),
        }
    }
    out
}

fn provider_name(alias: &Option<String>) -> String {
    match alias {
        Some(a) => format!("aws.{a}"),
        None => "aws".into(),
    }
}

/// The root configuration a resource uses, through `providers`.
fn resolve_provider(
    rc: &crate::config::ResourceConfig,
    providers: &ProviderMap,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let (wanted, loc) = match &rc.provider {
        Some((alias, loc)) => (alias.clone(), loc),
        None => (None, &rc.loc),
    };
    match providers.get(&wanted) {
        Some(root) => root.clone(),
        None => {
            let how = if what == "this stack" {
                format!(
                    "Declare provider \"aws\" {{ alias = \"{}\" ... }}.",
                    wanted.as_deref().unwrap_or_default()
                )
            } else {
                format!(
                    "Pass it in the module block: providers = {{ {} = aws.NAME }}.",
                    provider_name(&wanted)
                )
            };
            diags.push(Diagnostic::error(
                "Provider configuration not present",
                format!(
                    "{} uses {}, which {what} does not have. {how}",
                    rc.id,
                    provider_name(&wanted)
                ),
                Some(loc),
            ));
            None
        }
    }
}

/// The value a module instance's keys give its caller before anything is known.
fn shape(count: bool, for_each: bool, exps: &[Expansion]) -> Value {
    if count {
        Value::List(exps.iter().map(|_| Value::Unknown).collect())
    } else if for_each {
        Value::Map(
            exps.iter()
                .filter_map(|e| match &e.key {
                    Some(InstanceKey::Str(k)) => Some((k.clone(), Value::Unknown)),
                    _ => None,
                })
                .collect(),
        )
    } else {
        Value::Unknown
    }
}

/// A child module's variables as far as they are known before anything is evaluated
/// (for expanding the module calls inside it).
fn static_inputs(scope: &Scope, inst: &ModInst) -> BTreeMap<String, Value> {
    let mut scope = scope.clone();
    let mut out = BTreeMap::new();
    for (name, var) in &inst.def.variables {
        let v = match inst.call.args.iter().find(|a| &a.name == name) {
            Some(arg) => match inst.binding() {
                Some((n, b)) => scope.with_root(n, b, |s| s.eval(&arg.expr)),
                None => scope.eval(&arg.expr),
            }
            .unwrap_or(Value::Unknown),
            None => default_value(var).unwrap_or(Value::Unknown),
        };
        let v = match (&var.ty, v.has_unknown()) {
            (Some(t), false) => t.convert(v.clone()).unwrap_or(v),
            _ => v,
        };
        out.insert(name.clone(), v);
    }
    out
}

/// Every argument a call sets must be a variable of the module, and every variable
/// without a default must be set.
fn check_arguments(call: &ModuleCall, child: &Module, diags: &mut Diagnostics) {
    for a in &call.args {
        if !child.variables.contains_key(&a.name) {
            diags.push(Diagnostic::error(
                "Unsupported argument",
                format!(
                    "module \"{}\" ({}) declares no variable \"{}\".{} Declare it in the module with variable \"{}\" {{}}, or remove the argument.",
                    call.name,
                    call.source,
                    a.name,
                    did_you_mean(&a.name, child.variables.keys().map(String::as_str)),
                    a.name
                ),
                Some(&a.loc),
            ));
        }
    }
    for (name, v) in &child.variables {
        if v.default.is_none() && !call.args.iter().any(|a| &a.name == name) {
            diags.push(Diagnostic::error(
                "Missing required argument",
                format!(
                    "module \"{}\" needs `{name} = ...`: variable \"{name}\" of {} has no default.",
                    call.name, call.source
                ),
                Some(&call.loc),
            ));
        }
    }
}

/// Loads the module a call's `source` names: a local directory only.
fn load_child(
    parent: &Module,
    call: &ModuleCall,
    loader: &mut Loader,
    diags: &mut Diagnostics,
) -> Option<Arc<Module>> {
    let Loader { cache, chain } = loader;
    let src = &call.source;
    let loc = Some(&call.loc);
    if !(src.starts_with("./") || src.starts_with("../")) {
        diags.push(Diagnostic::error(
            "Unsupported module source",
            format!(
                "module \"{}\" has source = {src:?}. thingform loads modules from local directories only (source = \"./modules/NAME\" or \"../NAME\"): registry, git, HTTP and S3 sources need the network. Download the module into the stack and point source at that directory.",
                call.name
            ),
            loc,
        ));
        return None;
    }
    let dir = lexical(&parent.dir.join(src));
    if chain.contains(&dir) {
        diags.push(Diagnostic::error(
            "Module calls itself",
            format!(
                "module \"{}\" loads {src}, which one of its callers already is: a module cannot contain itself.",
                call.name
            ),
            loc,
        ));
        return None;
    }
    if chain.len() > MAX_DEPTH {
        diags.push(Diagnostic::error(
            "Modules nested too deeply",
            format!(
                "module \"{}\" is nested {} levels deep; thingform allows {MAX_DEPTH}.",
                call.name,
                chain.len()
            ),
            loc,
        ));
        return None;
    }
    if let Some(m) = cache.get(&dir) {
        return Some(m.clone());
    }
    if !dir.is_dir() {
        diags.push(Diagnostic::error(
            "Module directory not found",
            format!(
                "module \"{}\" has source = {src:?}, but {} is not a directory. Paths are relative to the directory of the file that calls the module.",
                call.name,
                dir.display()
            ),
            loc,
        ));
        return None;
    }
    match load_dir(&dir) {
        Ok(m) => {
            child_rules(&m, diags);
            let m = Arc::new(m);
            cache.insert(dir, m.clone());
            Some(m)
        }
        Err(d) => {
            diags.extend(d);
            None
        }
    }
}

/// What only the root module may hold.
fn child_rules(m: &Module, diags: &mut Diagnostics) {
    let mut refuse = |what: &str, how: &str, loc: &crate::diag::Loc| {
        diags.push(Diagnostic::error(
            format!("{what} in a child module"),
            format!("{what} belong in the root module (the stack directory). {how}"),
            Some(loc),
        ))
    };
    if let Some(p) = &m.provider {
        refuse(
            "Provider configurations",
            "Configure the provider in the root module and pass it with providers = { aws = aws.NAME } on the module block.",
            &p.loc,
        );
    }
    for i in &m.imports {
        refuse(
            "Import blocks",
            "Write `to` with the module address: to = module.NAME.TYPE.NAME.",
            &i.loc,
        );
    }
    for b in &m.moved {
        refuse(
            "Moved blocks",
            "Write the full addresses there: from = module.NAME.TYPE.OLD, to = module.NAME.TYPE.NEW.",
            &b.loc,
        );
    }
    for b in &m.removed {
        refuse(
            "Removed blocks",
            "Write the full address there: from = module.NAME.TYPE.NAME.",
            &b.loc,
        );
    }
    for c in &m.checks {
        refuse(
            "Check blocks",
            "thingform evaluates check blocks of the root module only; move it there and refer to the module's outputs.",
            &c.loc,
        );
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (so paths stay as the user
/// wrote them, relative where they were relative).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Attributes of a module block that reference the caller's names.
pub(super) fn call_attrs<'a>(call: &'a ModuleCall, name: &str) -> Vec<&'a Attr> {
    let mut attrs: Vec<&Attr> = call.args.iter().filter(|a| a.name == name).collect();
    attrs.extend(call.count.iter());
    attrs.extend(call.for_each.iter());
    attrs
}

#[cfg(test)]
#[path = "modules_tests.rs"]
mod tests;
