"""`{% memo a b c %}...{% endmemo %}`: a fragment rendered once per process for each set of key
values, then served from memory. For fragments that depend on nothing but their keys and the
code (the navigation: the role, the language, the page's path), so nothing can go stale while
the process lives. Unlike Django's `{% cache %}` it needs no round trip to Redis, and keeps
working when Redis does not (README, "Faults").

Only for markup without per-user or per-request data: no CSRF tokens, names or counts. With
DEBUG on (`make dev`) every fragment is rendered afresh."""

from __future__ import annotations

from collections import OrderedDict

from django import template
from django.conf import settings

register = template.Library()

#: Entries kept per process (least recently used first out): a few roles × languages × pages.
LIMIT = 1024
_FRAGMENTS: OrderedDict[tuple, str] = OrderedDict()


class MemoNode(template.Node):
    def __init__(self, nodelist: template.NodeList, keys: list[template.base.FilterExpression]):
        self.nodelist, self.keys = nodelist, keys

    def render(self, context) -> str:
        if settings.DEBUG:  # `make dev`: templates change under a running process
            return self.nodelist.render(context)
        key = (id(self), *(str(k.resolve(context)) for k in self.keys))
        found = _FRAGMENTS.get(key)
        if found is None:
            found = _FRAGMENTS[key] = self.nodelist.render(context)
            if len(_FRAGMENTS) > LIMIT:
                _FRAGMENTS.popitem(last=False)
        else:
            _FRAGMENTS.move_to_end(key)
        return found


@register.tag
def memo(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    if not keys:
        raise template.TemplateSyntaxError("{% memo %} needs at least one key")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(nodelist, keys)
