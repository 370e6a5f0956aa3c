"""Demo data for development: jurisdictions of 湘西州, firms, managers and two accounts per role.

Idempotent: every row is looked up by a natural key first, so running it again changes nothing.
Refuses to run with DEBUG off.
"""

from __future__ import annotations

import datetime as dt
import random

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import (
    BureauMembership,
    Employment,
    Firm,
    FirmMembership,
    Jurisdiction,
    ManagerProfile,
    User,
    WorkHistory,
)
from accounts.services import bureau_group_ensure, id_number_hash, registration_number_next
from accounts.validators import credit_code_check_char, id_number_check_char
from overview import dashboard
from registry import services as registry_services
from registry.models import AnnualFiling, ConductRecord, FilingWindow
from training.models import Course, HoursRule, Provider, ProviderStaff, StudyRecord

DEMO_PASSWORD = "Demo-2026-portal"
#: Base32 secret of the demo bureau accounts' authenticator (the admin requires TOTP).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

PROVINCE = ("430000", "湖南省")
PREFECTURE = ("433100", "湘西土家族苗族自治州")
COUNTIES = [
    ("433101", "吉首市"),
    ("433122", "泸溪县"),
    ("433123", "凤凰县"),
    ("433124", "花垣县"),
    ("433125", "保靖县"),
    ("433126", "古丈县"),
    ("433127", "永顺县"),
    ("433130", "龙山县"),
]

FIRMS = [
    ("吉首市华鼎物业服务有限公司", "433101", "MA4L00011"),
    ("湘西武陵山物业管理有限公司", "433101", "MA4L00022"),
    ("凤凰古城物业服务有限公司", "433123", "MA4L00033"),
    ("永顺县芙蓉物业服务有限公司", "433127", "MA4L00044"),
    ("龙山县里耶物业管理有限公司", "433130", "MA4L00055"),
]

PROVIDERS = [
    ("湘西州物业管理协会培训中心", "433100", "MA4P00011"),
    ("吉首职业技术学院继续教育部", "433101", "MA4P00022"),
]

SURNAMES = "彭向田龙石麻滕符覃舒张王李刘陈杨黄吴周谭"
GIVEN = [
    "建国",
    "丽华",
    "小军",
    "海燕",
    "磊",
    "敏",
    "春花",
    "文斌",
    "晓东",
    "玉兰",
    "勇",
    "婷",
    "志强",
    "红梅",
    "伟",
    "芳",
    "娜",
    "洋",
    "静",
    "帆",
    "秀英",
    "德明",
    "金花",
    "永胜",
]

# email, role, detail
DEMO_ACCOUNTS = [
    ("manager1@demo.example.cn", "manager", "吉首市华鼎物业服务有限公司"),
    ("manager2@demo.example.cn", "manager", "凤凰古城物业服务有限公司"),
    ("firm1@demo.example.cn", "firm", "吉首市华鼎物业服务有限公司"),
    ("firm2@demo.example.cn", "firm", "凤凰古城物业服务有限公司"),
    ("bureau1@demo.example.cn", "bureau", "吉首市"),
    ("bureau2@demo.example.cn", "bureau", "凤凰县"),
    ("bureau-zhou@demo.example.cn", "bureau", "湘西土家族苗族自治州"),
    ("provider1@demo.example.cn", "provider", "湘西州物业管理协会培训中心"),
    ("provider2@demo.example.cn", "provider", "吉首职业技术学院继续教育部"),
    ("admin@demo.example.cn", "admin", "—"),
]


def _certificate_png() -> bytes:
    """A small picture standing in for a photographed certificate."""
    import io

    image = Image.new("RGB", (480, 320), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 10, 470, 310], outline="darkred", width=6)
    draw.text((150, 150), "CERTIFICATE (demo)", fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def credit_code(region: str, org: str) -> str:
    first17 = "91" + region + org
    return first17 + credit_code_check_char(first17)


def id_number(region: str, birth: dt.date, seq: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


class Command(BaseCommand):
    help = "Load the demo data (development only; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", action="store_true", help="Only print the demo accounts.")

    def handle(self, *args, accounts=False, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo loads demo accounts and runs only with DEBUG on.")
        if not accounts:
            with transaction.atomic():
                self.seed()
            # The bureau dashboard's figures, as the nightly job would leave them.
            today = timezone.localdate()
            for year in dashboard.years_to_refresh(today):
                dashboard.dashboard_refresh(year=year, today=today)
        self.print_accounts()

    def print_accounts(self):
        self.stdout.write(f"  Demo accounts (password: {DEMO_PASSWORD})")
        for email, role, detail in DEMO_ACCOUNTS:
            self.stdout.write(f"    {role:<9} {email:<30} {detail}")
        self.stdout.write(
            "  Bureau accounts need a TOTP code for the admin: "
            "`.venv/bin/python manage.py demo_totp` prints it."
        )

    # --- the data ----------------------------------------------------------------------------

    def seed(self):
        rng = random.Random(20260101)
        province = self.jurisdiction(*PROVINCE, Jurisdiction.Level.PROVINCE, None)
        prefecture = self.jurisdiction(*PREFECTURE, Jurisdiction.Level.PREFECTURE, province)
        counties = {
            code: self.jurisdiction(code, name, Jurisdiction.Level.COUNTY, prefecture)
            for code, name in COUNTIES
        }
        places = {"430000": province, "433100": prefecture, **counties}

        firms = {}
        for name, region, org in FIRMS:
            firms[name], _ = Firm.objects.get_or_create(
                credit_code=credit_code(region, org),
                defaults={
                    "name": name,
                    "jurisdiction": counties[region],
                    "contact_person": "办公室",
                    "contact_phone": "0743-8" + org[-6:],
                },
            )
        providers = {}
        for name, region, org in PROVIDERS:
            providers[name], _ = Provider.objects.get_or_create(
                credit_code=credit_code(region, org),
                defaults={
                    "name": name,
                    "jurisdiction": places[region],
                    "status": Provider.Status.APPROVED,
                    "approved_from": dt.date(2025, 1, 1),
                    "approved_until": dt.date(2027, 12, 31),
                },
            )

        admin = self.user("admin@demo.example.cn", is_staff=True, is_superuser=True)
        self.totp(admin)

        group = bureau_group_ensure()
        for email, jurisdiction in [
            ("bureau1@demo.example.cn", counties["433101"]),
            ("bureau2@demo.example.cn", counties["433123"]),
            ("bureau-zhou@demo.example.cn", prefecture),
        ]:
            user = self.user(email, is_staff=True)
            BureauMembership.objects.get_or_create(
                user=user, defaults={"jurisdiction": jurisdiction, "title": "科员"}
            )
            user.groups.add(group)
            self.totp(user)

        for email, firm in [
            ("firm1@demo.example.cn", "吉首市华鼎物业服务有限公司"),
            ("firm2@demo.example.cn", "凤凰古城物业服务有限公司"),
        ]:
            FirmMembership.objects.get_or_create(
                user=self.user(email),
                defaults={"firm": firms[firm], "role": FirmMembership.Role.ADMIN},
            )
        for email, provider in [
            ("provider1@demo.example.cn", "湘西州物业管理协会培训中心"),
            ("provider2@demo.example.cn", "吉首职业技术学院继续教育部"),
        ]:
            ProviderStaff.objects.get_or_create(
                user=self.user(email), defaults={"provider": providers[provider]}
            )

        # Managers: the two demo managers first, then a realistic spread over the firms.
        firm_list = list(firms.values())
        specs = [
            ("manager1@demo.example.cn", "彭建国", firms["吉首市华鼎物业服务有限公司"], "active"),
            ("manager2@demo.example.cn", "向丽华", firms["凤凰古城物业服务有限公司"], "active"),
        ]
        for i in range(40):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7 + 3) % len(GIVEN)]
            firm = firm_list[i % len(firm_list)]
            # Most are employed; a few wait for the firm to confirm or for the manager to accept.
            state = (
                "active" if i % 10 not in (3, 7) else ("requested" if i % 10 == 3 else "offered")
            )
            specs.append((f"m{i + 1:03d}@demo.example.cn", name, firm, state))

        for n, (email, name, firm, state) in enumerate(specs):
            user = self.user(email)
            region = firm.jurisdiction.code
            birth = dt.date(1968 + rng.randrange(30), rng.randrange(1, 13), rng.randrange(1, 29))
            number = id_number(region, birth, 100 + n)
            profile = ManagerProfile.objects.filter(user=user).first()
            if profile is None:
                profile = ManagerProfile.objects.create(
                    user=user,
                    real_name=name,
                    id_number=number,
                    id_number_hash=id_number_hash(number),
                    phone=f"139{7430000 + n * 37:08d}"[:11],
                    education=rng.choice(["senior_high", "junior_college", "bachelor"]),
                    title=rng.choice(["none", "junior", "intermediate"]),
                    skill_level=rng.choice(["level4", "level3", "level3", "level2"]),
                    # Registered once the firm confirmed; the others wait for their firm.
                    registration_number=registration_number_next() if state == "active" else None,
                    registration_status="registered" if state == "active" else "awaiting_firm",
                    registered_at=timezone.now() if state == "active" else None,
                    completed_at=timezone.now(),
                    jurisdiction=firm.jurisdiction if state == "active" else None,
                )
                WorkHistory.objects.create(
                    profile=profile,
                    employer="湘西州某物业服务企业",
                    position="项目助理",
                    start_date=dt.date(2012, 3, 1),
                    end_date=dt.date(2016, 6, 30),
                )
            if not Employment.objects.filter(manager=profile).exists():
                status = {
                    "active": Employment.Status.ACTIVE,
                    "requested": Employment.Status.REQUESTED,
                    "offered": Employment.Status.OFFERED,
                }[state]
                firm_admin = firm.memberships.filter(role=FirmMembership.Role.ADMIN).first()
                Employment.objects.create(
                    manager=profile,
                    firm=firm,
                    status=status,
                    position=rng.choice(["项目经理", "物业管理员", "客服主管"]),
                    start_date=dt.date(2018 + n % 6, 1 + n % 12, 1) if state == "active" else None,
                    requested_by=(firm_admin.user if firm_admin and state == "offered" else user),
                    decided_at=timezone.now() if state == "active" else None,
                )

        self.seed_training(rng, province, prefecture, counties, providers)
        self.seed_registry(prefecture)

    def seed_training(self, rng, province, prefecture, counties, providers):
        """Rules, courses and a realistic spread of study records: compliant, short, pending."""

        for year in (2024, 2025, 2026):
            HoursRule.objects.get_or_create(
                jurisdiction=province, year=year, defaults={"annual_minimum": 40}
            )
        HoursRule.objects.get_or_create(
            jurisdiction=prefecture,
            year=2026,
            defaults={"annual_minimum": 40},
        )
        HoursRule.objects.get_or_create(
            jurisdiction=counties["433123"], year=2026, defaults={"annual_minimum": 48}
        )
        titles = [
            ("law", "《物业管理条例》与民法典物业服务合同专题"),
            ("law", "住宅专项维修资金管理政策解读"),
            ("innovation", "智慧物业与社区数字化管理实务"),
            ("innovation", "城市更新中的物业服务创新案例"),
            ("customer", "业主沟通与投诉处理技巧"),
            ("customer", "业主大会和业主委员会工作指导"),
            ("facilities", "电梯与消防设施设备运维管理"),
            ("facilities", "绿色建筑与节能降耗管理"),
            ("safety", "物业安全生产与突发事件应急处置"),
            ("safety", "防汛防灾与高空坠物风险防控"),
            ("finance", "物业服务费测算与财务管理"),
            ("finance", "物业企业成本控制与经营分析"),
        ]
        provider_list = list(providers.values())
        courses = []
        for i, (category, title) in enumerate(titles):
            provider = provider_list[i % 2]
            course, _ = Course.objects.get_or_create(
                code=f"XX{2025 + i % 2}-{i + 1:03d}",
                defaults={
                    "provider": provider,
                    "title": title,
                    "hours": [8, 12, 16, 6][i % 4],
                    "mode": ["online", "offline", "blended"][i % 3],
                    "category": category,
                    "start_date": dt.date(2025 + i % 2, 1 + i % 6, 1),
                    "end_date": dt.date(2026, 12, 31),
                },
            )
            courses.append(course)
        if StudyRecord.objects.exists():
            return
        png = _certificate_png()
        for n, profile in enumerate(ManagerProfile.objects.order_by("pk")):
            # Thirds: compliant, short of hours, and with records still awaiting verification.
            kind = n % 3
            picks = rng.sample(courses, 6 if kind == 0 else 3)
            for j, course in enumerate(picks):
                year = 2026 if course.start_date.year <= 2026 else 2025
                completed = max(course.start_date, dt.date(year, 3 + j, 10))
                pending = kind == 2 and j == 0
                record = StudyRecord(
                    manager=profile,
                    course=course,
                    completed_on=min(completed, dt.date(2026, 11, 1)),
                    hours=course.hours,
                    assessment="failed" if (kind == 1 and j == 2) else "passed",
                    score=rng.randrange(62, 99),
                    source="self" if pending else "provider",
                    status="pending" if pending else "verified",
                    verified_at=None if pending else timezone.now(),
                )
                if pending:
                    record.certificate_name = "结业证书.png"
                    record._detected_mime = "image/png"
                    record.certificate.save(f"demo-{profile.pk}.png", ContentFile(png), save=False)
                record.save()

    def seed_registry(self, prefecture):
        """An open filing window for the year being filed now, and filings in every state so
        that each role has something to look at. manager1 has none: the demo starts there."""

        today = timezone.localdate()
        year = today.year if today.month > 3 else today.year - 1
        FilingWindow.objects.get_or_create(
            jurisdiction=prefecture,
            year=year,
            defaults={
                "opens_on": min(today - dt.timedelta(days=21), dt.date(year + 1, 1, 1)),
                "closes_on": max(today + dt.timedelta(days=60), dt.date(year + 1, 3, 31)),
            },
        )
        if AnnualFiling.objects.filter(year=year).exists():
            return

        png = _certificate_png()
        zhou = User.objects.get(email="bureau-zhou@demo.example.cn")
        managers = (
            ManagerProfile.objects.filter(
                employments__status=Employment.Status.ACTIVE,
                employments__firm__memberships__role=FirmMembership.Role.ADMIN,
            )
            .exclude(user__email="manager1@demo.example.cn")
            .select_related("user")
            .distinct()
            .order_by("pk")
        )
        # What happens to each filing, in turn: the firm and the bureau each see a queue.
        plans = ["draft", "firm", "firm", "bureau", "bureau", "approved", "returned", "firm"]
        for n, manager in enumerate(managers):
            plan = plans[n % len(plans)]
            user = manager.user
            filing = registry_services.filing_start(actor=user, year=year)
            for kind in ("id_card", "diploma", "title", "ce", "contract"):
                upload = ContentFile(png, name=f"{kind}.png")
                upload.detected_mime = "image/png"
                registry_services.filing_proof_upload(
                    actor=user, filing=filing, kind=kind, file=upload
                )
            if plan == "draft":
                continue
            filing = registry_services.filing_submit(actor=user, filing=filing)
            reviewer = FirmMembership.objects.filter(firm=filing.firm).first().user
            if plan == "returned":
                registry_services.filing_firm_return(
                    actor=reviewer, filing=filing, reason="劳动合同照片不清晰，请重新拍摄上传。"
                )
                continue
            if plan == "firm":
                continue
            registry_services.filing_firm_approve(actor=reviewer, filing=filing)
            if plan == "approved":
                registry_services.filing_bureau_approve(actor=zhou, filing=filing)
        self.seed_conduct(managers, zhou, png)

    def seed_conduct(self, managers, official, png):
        """A good and a bad public conduct record, entered by the prefecture's official."""

        today = timezone.localdate()
        records = [
            ("good", "获评年度优秀项目经理", today - dt.timedelta(days=200), None),
            (
                "bad",
                "小区消防通道长期堵塞，经责令整改逾期未改",
                today - dt.timedelta(days=90),
                today + dt.timedelta(days=275),
            ),
        ]
        for manager, (kind, summary, start, until) in zip(
            list(managers)[:2], records, strict=False
        ):
            record = ConductRecord(
                manager=manager,
                kind=kind,
                occurred_on=start,
                summary=summary,
                effective_from=start,
                effective_until=until,
                public=True,
                evidence_name="决定书.png",
            )
            record._detected_mime = "image/png"
            record.evidence.save("决定书.png", ContentFile(png), save=False)
            registry_services.conduct_record_save(actor=official, record=record)

    def jurisdiction(self, code, name, level, parent):
        obj, _ = Jurisdiction.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "level": level,
                "parent": parent,
                "path": (parent.path if parent else "") + code + "/",
            },
        )
        return obj

    def user(self, email, **extra):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, **extra)
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def totp(self, user):

        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, DEMO_TOTP_SECRET)
