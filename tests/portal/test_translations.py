"""Our catalogue against Django's and allauth's own (issue 14, point 1).

Our catalogue (LOCALE_PATHS) wins over every app's, so a word we translate for one meaning
("Code": a course's code) changes it everywhere else too (allauth's second-factor field). Our
own ambiguous words carry a context (`pgettext`, `{% translate … context … %}`); these tests read
the compiled catalogues (scripts/test.sh compiles ours before the suite) and the pages."""

import gettext
import re
import uuid
from pathlib import Path

import allauth
import django
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests import factories as f
from tests.auth import PASSWORD, client_for, totp_activate, totp_code

#: Words we translate differently from Django or allauth on purpose: the same meaning, our
#: wording. Anything else that differs is a word with two meanings and needs a context.
SAME_MEANING_OUR_WORDING = {
    "Add",
    "Administration",
    "Code",  # allauth's one-time code: 验证码 reads better than its 代码
    "Edit",
    "Filter",
    "History",  # 历史记录 (django-simple-history's word) for the admin's 历史
    "Home",
    "Log out",
    "Remove",
    "Search",
    "This year",
    "Verified",
    "created",
    "name",
    # A correction: allauth's 错误代码 reads as "error code" for a wrong or reused code.
    "Incorrect code.",
}


def _catalogue(path: Path) -> dict:
    with path.open("rb") as fp:
        return gettext.GNUTranslations(fp)._catalog  # noqa: SLF001


def _ours() -> dict:
    mo = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), "compile the catalogue first (scripts/test.sh does)"
    return _catalogue(mo)


def _theirs() -> dict[str, dict]:
    roots = [Path(django.__file__).parent, Path(allauth.__file__).parent]
    return {
        str(mo.relative_to(mo.parents[4])): _catalogue(mo)
        for root in roots
        for mo in root.glob("**/locale/zh_Hans/LC_MESSAGES/django.mo")
    }


@pytest.fixture
def _own_cache(settings):
    """Cache keys of this test's own: allauth accepts each TOTP code once per user and period
    and rate-limits log-ins, both in the cache shared with other tests."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"translations-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def test_our_catalogue_changes_no_third_party_word_to_another_meaning():
    ours = _ours()
    changed = {}
    for name, theirs in _theirs().items():
        for msgid, text in theirs.items():
            if isinstance(msgid, str) and msgid and msgid in ours and ours[msgid] != text:
                changed.setdefault(msgid, set()).add(f"{name}: {text!r} -> ours {ours[msgid]!r}")
    unexpected = {k: v for k, v in changed.items() if k not in SAME_MEANING_OUR_WORDING}
    assert not unexpected, (
        "our catalogue overrides these strings of Django or allauth; give our own use a "
        f"context (pgettext) instead: {unexpected}"
    )


@pytest.mark.parametrize(
    ("context", "word", "chinese"),
    [
        (None, "Code", "验证码"),
        ("course", "Code", "课程编号"),
        (None, "Current", "当前"),
        ("employment", "Current", "在职"),
        (None, "History", "历史记录"),
        ("filing", "History", "办理记录"),
        (None, "Change", "修改"),
        ("audit", "Change", "变更"),
        (None, "now", "现在"),
        ("until", "now", "至今"),
    ],
)
def test_words_with_two_meanings_read_by_context(context, word, chinese):
    with translation.override("zh-hans"):
        if context is None:
            assert translation.gettext(word) == chinese
        else:
            assert translation.pgettext(context, word) == chinese


def _password_step(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_authenticate"))


def _code_label(html: str) -> str:
    match = re.search(r'<label[^>]*for="id_code"[^>]*>(.*?)</label>', html, re.S)
    assert match, html[:2000]
    return re.sub(r"<[^>]+>|\s+", "", match.group(1))


def test_second_factor_field_is_labelled_as_a_verification_code(db, _own_cache):
    staff = totp_activate(f.BureauMembershipFactory().user)
    client = Client()
    _password_step(client, staff)

    html = client.get(reverse("mfa_authenticate")).content.decode()

    assert "课程编号" not in html
    assert _code_label(html).startswith("验证码")
    assert 'placeholder="验证码"' in html


def test_wrong_or_reused_second_factor_code_says_so(db, _own_cache):
    staff = totp_activate(f.BureauMembershipFactory().user)
    client = Client()
    _password_step(client, staff)

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"}).content.decode()
    assert "验证码不正确或已使用过" in wrong
    assert "错误代码" not in wrong

    code = totp_code()
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    # The same code again, in a new log-in: allauth refuses a code used once.
    again = Client()
    _password_step(again, staff)
    reused = again.post(reverse("mfa_authenticate"), {"code": code}).content.decode()
    assert "验证码不正确或已使用过" in reused


def test_course_catalogue_column_is_the_course_code(db):
    manager = f.ManagerProfileFactory()
    html = client_for(manager.user).get(reverse("training:catalogue")).content.decode()
    assert re.search(r"<th[^>]*>课程编号</th>", html)


def test_admin_screen_reader_texts_are_chinese(db):
    bureau = f.BureauMembershipFactory().user
    html = client_for(bureau).get(reverse("admin:index")).content.decode()
    for english in ("Model name", "Add link", "Change or view list link"):
        assert english not in html
    assert "模型名称" in html
    assert "修改或查看列表链接" in html
