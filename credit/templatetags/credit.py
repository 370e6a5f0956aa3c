from django import template

from credit.models import Objection, ScoreLine

register = template.Library()


@register.simple_tag
def objection_target_label(target: str) -> str:
    return str(dict(Objection.Target.choices).get(target, target))


@register.simple_tag
def rule_label(rule: str) -> str:
    return str(dict(ScoreLine.Rule.choices).get(rule, rule))
