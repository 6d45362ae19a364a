"""The ``captioner`` command: caption a clip from the shell (and, later, run the service)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from captioner import formats
from captioner.config import Settings
from captioner.errors import CaptionerError
from captioner.glossary import parse_glossary
from captioner.pipeline import CaptionOptions, CaptionResult, Progress, caption
from captioner.segment import check


@click.group()
@click.version_option(package_name="captioner")
def main() -> None:
    """Broadcast-style captions for news clips, offline."""


@main.command("caption")
@click.argument("clip", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None,
              help="Output file or directory (default: beside the clip).")
@click.option("--format", "fmt", type=click.Choice([*formats.FORMATS, "all"]), default="vtt",
              show_default=True)
@click.option("--model", default=None, help="tiny.en, base, or a CTranslate2 model directory.")
@click.option("--language", default=None, help="Language code such as en; default: detect.")
@click.option("--glossary", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Names to spell right, one per line (Lavrov, Kyiv, ...).")
@click.option("--beam-size", type=click.IntRange(1, 10), default=None)
def caption_cmd(clip: Path, out: Path | None, fmt: str, model: str | None, language: str | None,
                glossary: Path | None, beam_size: int | None) -> None:
    """Caption CLIP and write VTT/SRT/JSON/TXT files."""
    settings = Settings.from_env()
    options = settings.caption_options(
        model=model or settings.model,
        language=language,
        glossary=parse_glossary(glossary.read_text(encoding="utf-8")) if glossary else (),
        beam_size=beam_size or settings.beam_size,
    )
    fmts = formats.FORMATS if fmt == "all" else (fmt,)
    try:
        result = _run_with_bar(clip, options, settings.cache_dir)
        stem = _output_stem(clip, out, fmts)
        meta = {"model": result.model, "source": clip.name}
        written = formats.write_files(stem, fmts, result.transcript, result.cues, **meta)
    except CaptionerError as exc:
        raise click.ClickException(str(exc)) from None
    _summary(result, written)


def _run_with_bar(clip: Path, options: CaptionOptions, cache_dir: Path) -> CaptionResult:
    bar = tqdm(total=100, unit="%", desc="transcribing", file=sys.stderr,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
               disable=None)  # None: no bar when stderr is not a terminal

    def update(p: Progress) -> None:
        bar.n = round(p.fraction * 100)
        bar.set_description(p.stage)
        bar.refresh()

    try:
        return caption(clip, options, cache_dir, update)
    finally:
        bar.close()


def _output_stem(clip: Path, out: Path | None, fmts: tuple[str, ...]) -> Path:
    if out is None:
        return clip.with_suffix("")
    if out.is_dir() or (len(fmts) > 1 and not out.suffix):
        return out / clip.stem
    return out.with_suffix("") if out.suffix.lstrip(".") in formats.FORMATS else out


def _summary(result: CaptionResult, written: list[Path]) -> None:
    violations = check(result.cues, result.transcript.words, duration=result.media.duration)
    bad_cues = len({v.cue_index for v in violations})
    lang = result.transcript.language or "?"
    click.echo(
        f"{result.media.path.name}: {result.media.duration:.1f} s, language {lang}, "
        f"{len(result.cues)} cues ({len(result.cues) - bad_cues} within the caption style), "
        f"{len(result.transcript.words)} words, {result.speed:.1f}x real time",
        err=True,
    )
    for path in written:
        click.echo(str(path))


def _accounts():
    from captioner.accounts import Accounts
    from captioner.store import Store

    settings = Settings.from_env()
    return Accounts(Store(settings.database_url, settings.data_dir))


@main.group()
def users() -> None:
    """Producer accounts (viewers need none)."""


@users.command("add")
@click.argument("name")
@click.password_option(help="Prompted for (twice) when not given.")
def users_add(name: str, password: str) -> None:
    """Add producer NAME; the password is stored hashed."""
    try:
        _accounts().add_user(name, password)
    except CaptionerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added producer {name}")


@users.command("list")
def users_list() -> None:
    for user in _accounts().users():
        click.echo(user.name)


@main.group()
def tokens() -> None:
    """API tokens for producers' scripts and systems."""


@tokens.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
def tokens_create(name: str, label: str) -> None:
    """Print a new API token for producer NAME (shown once, stored hashed)."""
    try:
        token = _accounts().create_token(name, label)
    except CaptionerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
    click.echo("Send it as 'Authorization: Bearer <token>'. It is not shown again.", err=True)


@tokens.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke every token of producer NAME."""
    try:
        count = _accounts().revoke_tokens(name)
    except CaptionerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {count} token(s) of {name}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--web-workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Web processes; more than one needs CAPTIONER_RATELIMIT_STORAGE=redis://... "
                   "so rate limits are counted across them.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Clips captioned at once (each uses all cores by default).")
def serve_cmd(host: str, port: int, web_workers: int, concurrency: int) -> None:
    """Run the web app and a worker on the embedded defaults (SQLite, filesystem broker)."""
    from captioner import serve

    sys.exit(serve.run(Settings.from_env(), host, port, web_workers, concurrency, click.echo))


if __name__ == "__main__":
    main()
