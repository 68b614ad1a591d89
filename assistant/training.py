"""Rasa training data generated from the catalogue: one intent per bundle, its examples and rules."""

from __future__ import annotations

import random
import re
import shutil
import zlib
from pathlib import Path
from typing import Any, Callable

import yaml

from .intents import OUT_OF_SCOPE, SHOW_BUNDLE_ACTION, intent_name

TEMPLATES = Path(__file__).with_name("training_templates.yaml")
Records = dict[str, dict[str, dict[str, Any]]]  # the catalogue's records, as catalogue.db.load gives them
def short_name(name: str) -> str:
    """我要开健身房 → 开健身房; 新生儿出生一件事（…） → 新生儿出生."""
    core = re.split(r"[（(]", name)[0].strip()
    core = re.sub(r"一件事$", "", core)
    return re.sub(r"^我要", "", core) or core


def examples(slug: str, bundle: dict[str, Any], templates: dict[str, Any]) -> list[str]:
    """The bundle's aliases and names, then templated phrasings drawn with a seed fixed per bundle."""
    phrases = list(dict.fromkeys(bundle["aliases"] + [short_name(bundle["name"])]))
    found = list(dict.fromkeys([bundle["name"]] + phrases))
    wanted = len(found) + templates["examples_per_bundle"]
    rng = random.Random(zlib.crc32(slug.encode()))  # reproducible across runs and machines
    for _ in range(templates["examples_per_bundle"] * 3):
        if len(found) >= wanted:
            break
        text = rng.choice(templates["prefixes"]) + rng.choice(templates["patterns"]).format(a=rng.choice(phrases))
        if text not in found:
            found.append(text)
    return found


NOT_A_PLACE = re.compile(r"许可|证|手续|登记|备案|注册|的|要|啥|咋|办|整|开|[A-Za-z]")
# how the name of a place ends (健身房, 药店, 电影院, 小卖部, 服装档口, 兴趣班…)
PLACE_ENDING = re.compile(
    r"(店|房|馆|院|所|城|厅|室|场|厂|行|部|铺|铺子|档口|亭|吧|机构|公寓|中心|学校|班|客栈|酒店|沙龙|俱乐部|超市|民宿)$")


def places(bundle: dict[str, Any]) -> list[str]:
    """A business bundle's own names for the place it opens (健身房, 私教工作室): aliases that are a noun, not an
    act (开健身房) or a licence; none for a bundle that opens no place (no alias starts with 开)."""
    aliases = bundle["aliases"]
    if not any(alias.startswith("开") for alias in aliases):
        return []
    return [alias for alias in aliases
            if 2 <= len(alias) <= 6 and PLACE_ENDING.search(alias) and not NOT_A_PLACE.search(alias)]


def customer_questions(records: Records, templates: dict[str, Any]) -> list[str]:
    """Hard negatives: a customer's questions about each kind of place a bundle opens (健身房几点关门)."""
    found: list[str] = []
    for slug, bundle in records["bundles"].items():
        nouns = places(bundle)
        if not nouns:
            continue
        rng = random.Random(zlib.crc32(b"customer " + slug.encode()))
        patterns = rng.sample(templates["customer_patterns"], templates["customer_examples_per_bundle"])
        found += [pattern.format(p=rng.choice(nouns)) for pattern in patterns]
    return list(dict.fromkeys(found))


def generate(records: Records, templates_path: Path = TEMPLATES) -> dict[str, dict[str, Any]]:
    """File name → YAML content: the domain's bundle intents, the NLU examples and the rules."""
    templates = yaml.safe_load(templates_path.read_text(encoding="utf-8"))
    bundles = records["bundles"]
    nlu = [{"intent": intent_name(s), "examples": "".join(f"- {e}\n" for e in examples(s, b, templates))}
           for s, b in bundles.items()]
    negatives = customer_questions(records, templates)
    if negatives:  # Rasa refuses an intent block without examples
        nlu.append({"intent": OUT_OF_SCOPE, "examples": "".join(f"- {e}\n" for e in negatives)})
    return {
        "domain/bundles.yml": {"version": "3.1", "intents": [intent_name(s) for s in bundles]},
        "data/bundles.yml": {"version": "3.1", "nlu": nlu},
        "data/bundle_rules.yml": {"version": "3.1", "rules": [
            {"rule": f"bundle {s}", "steps": [{"intent": intent_name(s)}, {"action": SHOW_BUNDLE_ACTION}]}
            for s in bundles]},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line texts (the examples) as literal blocks, as Rasa's own data files write them."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def write(records: Records, out: Path, domain: Path) -> list[Path]:
    """Write the generated files under out, with a copy of the hand-written domain beside them."""
    written = []
    for name, content in generate(records).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(content, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")  # unchanged files keep their time: no needless retraining
        written.append(path)
    target = out / "domain" / "domain.yml"
    if not target.exists() or target.read_bytes() != domain.read_bytes():
        shutil.copyfile(domain, target)
    written.append(target)
    return written


def writer(out: Path, domain: Path) -> Callable[[Records], list[Path]]:
    """The Rasa data as files derived from a catalogue build or publish (catalogue.build.Derive)."""
    return lambda records: write(records, out, domain)
