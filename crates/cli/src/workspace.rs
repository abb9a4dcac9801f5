//! Reading a workspace folder and data files from disk.

use attain_core::data::{self, Participants, Transactions};
use attain_core::diag::{Diagnostic, Location, SourceFile};
use attain_core::plan::{check_workspace, Workspace};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Problems to print, then exit non-zero.
pub struct Failed(pub Vec<Diagnostic>);

impl From<Vec<Diagnostic>> for Failed {
    fn from(d: Vec<Diagnostic>) -> Failed {
        Failed(d)
    }
}

pub fn io_error(path: &Path, e: &std::io::Error) -> Failed {
    Failed(vec![Diagnostic::error(
        Location::file(path.display().to_string()),
        format!("cannot read this file: {e}"),
    )])
}

/// The workspace's files as source text: `attain.toml` and every
/// `plans/*.toml`, in name order.
pub fn read_sources(dir: &Path) -> Result<(SourceFile, Vec<SourceFile>), Failed> {
    let ws_path = dir.join("attain.toml");
    let text = std::fs::read_to_string(&ws_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Failed(vec![Diagnostic::error(
                Location::file(ws_path.display().to_string()),
                "no attain.toml here",
            )
            .with_hint(
                "run `attain init DIR` to start a workspace, or pass `--workspace DIR`",
            )])
        } else {
            io_error(&ws_path, &e)
        }
    })?;
    let plans_dir = dir.join(attain_core::plan::syntax::plans_folder(&text));
    let ws_src = SourceFile::new(display(dir, &ws_path), text);
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(&plans_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_error(&plans_dir, &e)),
    };
    paths.sort();
    let mut plans = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| io_error(&p, &e))?;
        plans.push(SourceFile::new(display(dir, &p), text));
    }
    Ok((ws_src, plans))
}

fn display(dir: &Path, path: &Path) -> String {
    let shown = if dir == Path::new(".") {
        path.strip_prefix(".").unwrap_or(path)
    } else {
        path
    };
    shown.display().to_string()
}

/// A path as it is on disk: canonical when the file exists, else its
/// folder's canonical path and its name (a file not yet written), else
/// the path made absolute.
fn file_key(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Refuses to write `out` (named by option `flag`) when it is a file the
/// command reads: one of `inputs` (what the file is, its path), or, when
/// `workspace` is given, that workspace's `attain.toml` or a plan file.
/// Called before anything is read or written.
pub fn refuse_output_onto_input(
    flag: &str,
    out: &Path,
    workspace: Option<&Path>,
    inputs: &[(&str, &Path)],
) -> Result<(), Failed> {
    let target = file_key(out);
    let refuse = |what: &str| {
        Failed(vec![Diagnostic::error(
            Location::file(out.display().to_string()),
            format!("{flag} names the {what} this command reads; nothing was written"),
        )
        .with_hint(format!("choose another file for {flag}"))])
    };
    for (what, path) in inputs {
        if file_key(path) == target {
            return Err(refuse(what));
        }
    }
    if let Some(dir) = workspace {
        let ws_path = dir.join("attain.toml");
        if file_key(&ws_path) == target {
            return Err(refuse("workspace file"));
        }
        let folder = std::fs::read_to_string(&ws_path)
            .map(|text| attain_core::plan::syntax::plans_folder(&text))
            .unwrap_or_else(|_| "plans".into());
        let in_plans = target.parent() == Some(file_key(&dir.join(folder)).as_path());
        if in_plans && target.extension().is_some_and(|x| x == "toml") {
            return Err(refuse("plan file"));
        }
    }
    Ok(())
}

/// Reads and checks a workspace; warnings are returned beside it.
pub fn load(dir: &Path) -> Result<(Workspace, Vec<Diagnostic>), Failed> {
    let (ws_src, plans) = read_sources(dir)?;
    let checked = check_workspace(&ws_src, &plans);
    match checked.workspace {
        Some(ws) => Ok((ws, checked.diagnostics)),
        None => Err(Failed(checked.diagnostics)),
    }
}

pub fn open(path: &Path) -> Result<BufReader<File>, Failed> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|e| io_error(path, &e))
}

pub fn participants(ws: &Workspace, path: &Path) -> Result<Participants, Failed> {
    Ok(data::load_participants(
        ws,
        &path.display().to_string(),
        open(path)?,
    )?)
}

/// Reads the transactions file, with a progress bar on a terminal (hidden
/// otherwise, so logs and pipes stay clean).
pub fn transactions(
    ws: &Workspace,
    people: &Participants,
    path: &Path,
) -> Result<Transactions, Failed> {
    with_progress(path, "reading", |file, reader| {
        data::load_transactions(ws, people, file, reader)
    })
}

/// Reads the transactions file through `sift` (see [`data::sift_file`]:
/// the file is read by position, by the cores that parse it), with the
/// same progress bar.
pub fn sifted_transactions<S: data::Sift>(
    ws: &Workspace,
    people: &Participants,
    path: &Path,
    sift: &S,
) -> Result<data::Sifted<S::Out>, Failed> {
    let file = File::open(path).map_err(|e| io_error(path, &e))?;
    let bar = progress_bar(path, "reading and crediting");
    let progress = |n: u64| bar.inc(n);
    let name = path.display().to_string();
    let result = data::sift_file(ws, people, &name, &file, sift, &progress);
    bar.finish_and_clear();
    Ok(result?)
}

/// `read` on the file at `path` (named as messages name it), its bytes
/// counted on a progress bar.
fn with_progress<T>(
    path: &Path,
    doing: &str,
    read: impl FnOnce(&str, indicatif::ProgressBarIter<BufReader<File>>) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Failed> {
    let bar = progress_bar(path, doing);
    let reader = bar.wrap_read(open(path)?);
    let result = read(&path.display().to_string(), reader);
    bar.finish_and_clear();
    Ok(result?)
}

/// A bar for reading the file at `path`, its length in bytes (drawn on a
/// terminal only).
fn progress_bar(path: &Path, doing: &str) -> indicatif::ProgressBar {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(format!("{doing} {}", path.display()));
    bar
}

/// A spinner for a step of unknown length, on a terminal only; cleared
/// when dropped, so an error returned early prints on a clean line.
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::new_spinner().with_finish(indicatif::ProgressFinish::AndClear);
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Writes a file whole or not at all: to a temporary file beside it, then
/// renamed into place.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), Failed> {
    let fail = |e: std::io::Error| {
        Failed(vec![Diagnostic::error(
            Location::file(path.display().to_string()),
            format!("cannot write this file: {e}"),
        )])
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(File::create(&tmp)?);
        write(&mut f)?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}
