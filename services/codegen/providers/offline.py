"""The offline provider: deterministic and rule based, for machines without a model. The
requirement is segmented (jieba for Chinese, words for English) and looked up in a domain
lexicon; what the lexicon does not know is not understood. It uses no tokens."""

import re
from collections.abc import Iterator

import jieba

from libs.errors import Permanent
from proto.codegen import MAX_ENTITIES, AppSpec, EntitySpec, Plan, ProviderName, QualityReport
from services.codegen.providers.base import NO_USAGE, Caller, Usage
from services.codegen.providers.lexicon import (
    APP_KINDS,
    BY_NAME,
    CONCEPTS,
    FEATURE_WORDS,
    ROLE_WORDS,
    WORDS,
    Concept,
)
from services.codegen.spec import spec_from_plan

_SEGMENTER = jieba.Tokenizer()
_LEXICON_ADDED = False
# Longest first, so a token holding several lexicon words (二手交易) yields each of them.
_CJK_WORDS = sorted((w for w in WORDS if not w.isascii() and len(w) >= 2), key=len, reverse=True)


def warm_up() -> None:
    """Load the segmenter's dictionary (about a second) and the lexicon's words into it: at
    start, not in the first request, and never at import (render processes import this module
    without segmenting anything)."""
    global _LEXICON_ADDED
    if not _LEXICON_ADDED:
        _SEGMENTER.initialize()
        for word in WORDS:
            if not word.isascii():
                _SEGMENTER.add_word(word, freq=200_000)
        _LEXICON_ADDED = True


def tokens(text: str) -> list[str]:
    warm_up()
    return [token.strip().lower() for token in _SEGMENTER.cut(text) if token.strip()]


def _words_in(token: str) -> Iterator[str]:
    if token in WORDS or token in FEATURE_WORDS or token in ROLE_WORDS:
        yield token
        return
    if token.isascii():
        return
    rest = token
    for word in _CJK_WORDS:
        if word in rest:
            yield word
            rest = rest.replace(word, " ")


def _entity(concept: Concept, chosen: set[str]) -> EntitySpec:
    relations = [r for r in concept.relations if r.target in chosen]
    return EntitySpec(name=concept.name, label=concept.label, fields=list(concept.fields),
                      relations=relations)


def _with_required_targets(found: list[str]) -> list[str]:
    """Add the entities that required relations point at (a review needs its reviewer)."""
    chosen = list(found)
    index = 0
    while index < len(chosen):
        for relation in BY_NAME[chosen[index]].relations:
            if relation.required and relation.target not in chosen:
                chosen.append(relation.target)
        index += 1
    return chosen


def _app_name(words: list[str], entities: list[str]) -> str:
    for hints, name in APP_KINDS:
        if any(hint in words for hint in hints):
            return name
    return f"{entities[0]}App"


def plan_requirement(requirement: str) -> Plan:
    segments = tokens(requirement)
    words = [word for token in segments for word in _words_in(token)]
    found: list[str] = []
    features: list[str] = []
    roles: list[str] = []
    for word in words:
        concept = WORDS.get(word)
        if concept is not None and concept.name not in found:
            found.append(concept.name)
        for feature in (*(concept.features if concept else ()), FEATURE_WORDS.get(word)):
            if feature and feature not in features:
                features.append(feature)
        role = ROLE_WORDS.get(word)
        if role and role not in roles:
            roles.append(role)
    if not found:
        known = "、".join(c.label for c in CONCEPTS[:12])
        raise Permanent(f"离线生成器无法从需求中识别任何实体（它认识的领域词如：{known}…）；"
                        "请用这些词描述需求，或为部署配置模型")
    chosen = _with_required_targets(found)[:MAX_ENTITIES]
    order = {name: index for index, name in enumerate(c.name for c in CONCEPTS)}
    chosen.sort(key=order.__getitem__)
    entities = [_entity(BY_NAME[name], set(chosen)) for name in chosen]
    summary = (f"识别{len(entities)}个实体（{'、'.join(e.label for e in entities)}）"
               + (f"，功能：{'、'.join(features)}" if features else ""))
    return Plan(app_name=_app_name(words + segments, found), summary=summary, entities=entities,
                roles=roles or ["用户", "管理员"], features=features)


def review_notes(report: QualityReport) -> list[str]:
    return [f"{check.name}: {check.detail}" for check in report.checks if not check.passed]


class OfflineProvider:
    name = ProviderName.OFFLINE

    async def plan(self, requirement: str, caller: Caller) -> tuple[Plan, Usage]:
        return plan_requirement(requirement), NO_USAGE

    async def execute(self, requirement: str, plan: Plan, package_name: str,
                      caller: Caller) -> tuple[AppSpec, Usage]:
        search = "搜索" in plan.features or re.search(r"search", requirement, re.I) is not None
        return spec_from_plan(plan, package_name, search=search), NO_USAGE

    async def review(self, spec: AppSpec, report: QualityReport,
                     caller: Caller) -> tuple[list[str], Usage]:
        return review_notes(report), NO_USAGE

    async def describe(self, spec: AppSpec, caller: Caller) -> tuple[str, Usage]:
        labels = "、".join(entity.label or entity.name for entity in spec.entities)
        features = "、".join(spec.features) or "基础增删改查"
        return (f"{spec.app_name} 是一个基于 Spring Boot 与 Kotlin 的后端服务，管理{labels}，"
                f"提供{features}等功能，共 {len(spec.endpoints)} 个 REST 接口。"), NO_USAGE
