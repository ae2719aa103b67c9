//! The commands that read or edit the state directly: `state list|rm|mv|pull|push|show`,
//! `output` and `force-unlock`.

use super::args::{
    ForceUnlockArgs, OutputArgs, StateCommand, StateListArgs, StateMvArgs, StatePullArgs,
    StatePushArgs, StateRmArgs, StateShowArgs,
};
use super::{locked, open_backend, render};
use crate::address::Address;
use crate::state::State;

pub async fn dispatch(command: StateCommand) -> anyhow::Result<i32> {
    match command {
        StateCommand::List(a) => list(a).await,
        StateCommand::Rm(a) => rm(a).await,
        StateCommand::Mv(a) => mv(a).await,
        StateCommand::Pull(a) => pull(a).await,
        StateCommand::Push(a) => push(a).await,
        StateCommand::Show(a) => show(a).await,
    }
}

async fn list(a: StateListArgs) -> anyhow::Result<i32> {
    let st = open_backend(&a.dir, &a.state)
        .await?
        .read()
        .await?
        .unwrap_or_default();
    for r in st.iter() {
        let addr = r.address.to_string();
        if a.filter.is_empty() || a.filter.iter().any(|f| addr.starts_with(f.as_str())) {
            println!("{addr}");
        }
    }
    Ok(0)
}

async fn rm(a: StateRmArgs) -> anyhow::Result<i32> {
    let StateRmArgs {
        state,
        dir,
        dry_run,
        addresses,
    } = a;
    let be = open_backend(&dir, &state).await?;
    locked(&be, state.lock, "state rm", async || {
        let mut st = be.read().await?.unwrap_or_default();
        let mut removed = vec![];
        for a in &addresses {
            let before = st.resources.len();
            let matched: Vec<Address> = st
                .iter()
                .filter(|r| address_matches(&r.address, a))
                .map(|r| r.address.clone())
                .collect();
            if matched.is_empty() {
                anyhow::bail!("no instance matches {a} in the state; see `thingform state list`");
            }
            for m in &matched {
                st.remove(m);
            }
            debug_assert!(st.resources.len() < before);
            removed.extend(matched);
        }
        for a in &removed {
            println!("{} {a}", if dry_run { "Would remove" } else { "Removed" });
        }
        if !dry_run {
            be.write_new_serial(&mut st).await?;
            println!(
                "Successfully removed {} resource instance(s). They still exist in AWS; thingform no longer manages them.",
                removed.len()
            );
        }
        Ok(0)
    })
    .await
}

async fn mv(a: StateMvArgs) -> anyhow::Result<i32> {
    let StateMvArgs {
        state,
        dir,
        dry_run,
        from,
        to,
    } = a;
    let be = open_backend(&dir, &state).await?;
    locked(&be, state.lock, "state mv", async || {
        let mut st = be.read().await?.unwrap_or_default();
        let moves = plan_moves(&st, &from, &to)?;
        for (a, b) in &moves {
            println!("{}Move {a} to {b}", if dry_run { "Would " } else { "" });
        }
        if !dry_run {
            for (a, b) in &moves {
                if let Some(mut r) = st.remove(a) {
                    r.address = b.clone();
                    r.name = b.resource.name.clone();
                    r.index_key = b.key.clone();
                    st.upsert(r);
                }
            }
            be.write_new_serial(&mut st).await?;
            println!("Successfully moved {} object(s).", moves.len());
        }
        Ok(0)
    })
    .await
}

async fn pull(a: StatePullArgs) -> anyhow::Result<i32> {
    let st = open_backend(&a.dir, &a.state)
        .await?
        .read()
        .await?
        .unwrap_or_default();
    print!("{}", st.to_json_pretty());
    Ok(0)
}

async fn push(a: StatePushArgs) -> anyhow::Result<i32> {
    let StatePushArgs {
        state,
        dir,
        force,
        file,
    } = a;
    let be = open_backend(&dir, &state).await?;
    let mut incoming = be.read_file(&file).await?;
    locked(&be, state.lock, "state push", async || {
        if let Some(current) = be.read().await? {
            let empty = current.resources.is_empty() && current.serial == 0;
            if !force && !empty && current.lineage != incoming.lineage {
                anyhow::bail!(
                    "{} belongs to another state (lineage {}) than {} (lineage {}); pushing it would replace unrelated state. Use -force if you are sure",
                    file.display(),
                    incoming.lineage,
                    be.describe(),
                    current.lineage
                );
            }
            if !force && incoming.serial < current.serial {
                anyhow::bail!(
                    "{} has serial {}, older than the stored state's {}; it would lose newer changes. Use -force if you are sure",
                    file.display(),
                    incoming.serial,
                    current.serial
                );
            }
            // Plans made against the replaced state must be refused.
            incoming.serial = incoming.serial.max(current.serial + 1);
        }
        be.push(&incoming).await?;
        println!(
            "Pushed {} ({} resources, serial {}) to {}.",
            file.display(),
            incoming.resources.len(),
            incoming.serial,
            be.describe()
        );
        Ok(0)
    })
    .await
}

async fn show(a: StateShowArgs) -> anyhow::Result<i32> {
    let st = open_backend(&a.dir, &a.state)
        .await?
        .read()
        .await?
        .unwrap_or_default();
    let addr: Address = a.address.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let r = st.get(&addr).ok_or_else(|| {
        anyhow::anyhow!("no instance {addr} in the state; see `thingform state list`")
    })?;
    print!(
        "# {addr}:\n{}",
        render::attributes_human(&r.rtype, &r.name, &r.attributes)
    );
    Ok(0)
}

pub async fn output(a: OutputArgs) -> anyhow::Result<i32> {
    let OutputArgs {
        state,
        json,
        raw,
        name,
        dir,
        ..
    } = a;
    let st = open_backend(&dir, &state)
        .await?
        .read()
        .await?
        .unwrap_or_default();
    match name {
        Some(n) => {
            let o = st.outputs.get(&n).ok_or_else(|| {
                anyhow::anyhow!("output {n:?} not found: apply the stack first, or check the name with `thingform output`")
            })?;
            if json {
                println!("{}", o.value);
            } else if raw {
                match &o.value {
                    serde_json::Value::String(s) => println!("{s}"),
                    serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                        println!("{}", o.value)
                    }
                    _ => anyhow::bail!(
                        "-raw prints only strings, numbers and bools; use -json for {n}"
                    ),
                }
            } else if o.sensitive {
                println!("<sensitive>");
            } else {
                println!("{}", render::output_value(&o.value));
            }
        }
        None => {
            if json {
                let m: serde_json::Map<String, serde_json::Value> = st
                    .outputs
                    .iter()
                    .map(|(k, o)| {
                        (k.clone(), serde_json::json!({"sensitive": o.sensitive, "value": if o.sensitive { serde_json::Value::Null } else { o.value.clone() }}))
                    })
                    .collect();
                println!("{}", serde_json::Value::Object(m));
            } else if st.outputs.is_empty() {
                eprintln!("Warning: No outputs found. Apply a stack with output blocks first.");
            } else {
                for (k, o) in &st.outputs {
                    let v = if o.sensitive {
                        "<sensitive>".to_string()
                    } else {
                        render::output_value(&o.value)
                    };
                    println!("{k} = {v}");
                }
            }
        }
    }
    Ok(0)
}

pub async fn force_unlock(a: ForceUnlockArgs) -> anyhow::Result<i32> {
    open_backend(&a.dir, &a.state)
        .await?
        .force_unlock(&a.lock_id)
        .await?;
    println!("thingform state has been successfully unlocked!");
    Ok(0)
}

/// `aws_x.y` matches every instance of the resource; `aws_x.y["k"]` exactly one.
fn address_matches(a: &Address, pattern: &str) -> bool {
    let text = a.to_string();
    text == pattern || (!pattern.contains('[') && a.resource.to_string() == pattern)
}

/// The (from, to) pairs of a `state mv`.
fn plan_moves(st: &State, from: &str, to: &str) -> anyhow::Result<Vec<(Address, Address)>> {
    // A whole module instance: everything in it (and below it) moves under `to`.
    if let (Ok(fm), Ok(tm)) = (
        from.parse::<crate::address::ModuleInstance>(),
        to.parse::<crate::address::ModuleInstance>(),
    ) && !fm.is_root()
        && !tm.is_root()
    {
        let moves: Vec<(Address, Address)> = st
            .iter()
            .filter(|r| r.address.resource.module.starts_with(&fm))
            .map(|r| {
                let mut steps = tm.0.clone();
                steps.extend(r.address.resource.module.0[fm.0.len()..].iter().cloned());
                let id = crate::address::ResourceId {
                    module: crate::address::ModuleInstance(steps),
                    ..r.address.resource.clone()
                };
                (r.address.clone(), id.instance(r.address.key.clone()))
            })
            .collect();
        return check_moves(st, from, moves);
    }
    let from_addr: Address = from.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let to_addr: Address = to.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    if from_addr.resource.rtype != to_addr.resource.rtype {
        anyhow::bail!("cannot move {from} to {to}: the resource types differ");
    }
    let moves: Vec<(Address, Address)> = if from_addr.key.is_some() || to_addr.key.is_some() {
        st.get(&from_addr)
            .map(|_| vec![(from_addr.clone(), to_addr.clone())])
            .unwrap_or_default()
    } else {
        st.instances_of(&from_addr.resource)
            .map(|r| {
                (
                    r.address.clone(),
                    to_addr.resource.instance(r.address.key.clone()),
                )
            })
            .collect()
    };
    check_moves(st, from, moves)
}

fn check_moves(
    st: &State,
    from: &str,
    moves: Vec<(Address, Address)>,
) -> anyhow::Result<Vec<(Address, Address)>> {
    if moves.is_empty() {
        anyhow::bail!("no instance matches {from} in the state; see `thingform state list`");
    }
    for (_, b) in &moves {
        if st.get(b).is_some() {
            anyhow::bail!("cannot move to {b}: the state already has an instance there");
        }
    }
    Ok(moves)
}
