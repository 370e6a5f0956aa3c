"""A province at full size for load tests and profiling (development only).

    manage.py seed_scale --managers 100000          (scripts/loadtest.sh runs it)
    manage.py seed_scale --print-accounts           (the accounts the load test logs in as)

One province (湖南省) with its 14 prefectures and their 122 counties, 2,000 firms of very unequal
size (the largest with about 1,900 managers, the smallest with about ten), 100,000 registered
and employed managers, ten study records each (1,000,000), about 100,000 filings of last year
and this year in every state with their proofs and review events, conduct records, the registry
statuses of the closed year with their credit-record entries, about half a million notices, a
reviewer for every firm and bureau accounts at every level (with a TOTP authenticator).

Everything is written by a few bulk statements (COPY and INSERT ... SELECT) in one transaction,
so it takes a few minutes and leaves nothing half made. The ID numbers go through the model
field's own encryption and the blind index of `accounts.services.id_number_hash`, in one pass
over the managers. Every account shares one password hash (hashing 100,000 passwords would take
hours); all proofs share five small stored files, all certificates one (each row has a content hash
of its own: they stand for distinct documents, and no risk flag says "shared document").

Idempotent: a second run finds the province's managers and does nothing. Refuses to run with
DEBUG off (the accounts' password is published).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Firm, Jurisdiction, ManagerProfile, User
from accounts.services import bureau_group_ensure, id_number_hash
from accounts.validators import credit_code_check_char, id_number_check_char, mask_id_number
from notifications.models import Notice
from registry.models import FilingWindow
from training.models import Course, HoursRule, Provider

DOMAIN = "scale.example.cn"
PASSWORD = "Scale-2026-portal"
#: The bureau accounts' authenticator secret (the same as the demo's, see the README).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ANNUAL_MINIMUM = 24
RECORDS_PER_MANAGER = 10
COURSES = 200

PROVINCE = ("430000", "湖南省")
#: Prefectures with their counties (names as they are; codes of the counties are made up below
#: the prefecture's, except 湘西州's, which the demo data share).
PREFECTURES = [
    ("430100", "长沙市", "芙蓉区 天心区 岳麓区 开福区 雨花区 望城区 长沙县 浏阳市 宁乡市"),
    ("430200", "株洲市", "荷塘区 芦淞区 石峰区 天元区 渌口区 攸县 茶陵县 炎陵县 醴陵市"),
    ("430300", "湘潭市", "雨湖区 岳塘区 湘潭县 湘乡市 韶山市"),
    (
        "430400",
        "衡阳市",
        "珠晖区 雁峰区 石鼓区 蒸湘区 南岳区 衡阳县 衡南县 衡山县 衡东县 祁东县 耒阳市 常宁市",
    ),
    (
        "430500",
        "邵阳市",
        "双清区 大祥区 北塔区 新邵县 邵阳县 隆回县 洞口县 绥宁县 新宁县 城步苗族自治县 武冈市 "
        "邵东市",
    ),
    ("430600", "岳阳市", "岳阳楼区 云溪区 君山区 岳阳县 华容县 湘阴县 平江县 汨罗市 临湘市"),
    ("430700", "常德市", "武陵区 鼎城区 安乡县 汉寿县 澧县 临澧县 桃源县 石门县 津市市"),
    ("430800", "张家界市", "永定区 武陵源区 慈利县 桑植县"),
    ("430900", "益阳市", "资阳区 赫山区 南县 桃江县 安化县 沅江市"),
    (
        "431000",
        "郴州市",
        "北湖区 苏仙区 桂阳县 宜章县 永兴县 嘉禾县 临武县 汝城县 桂东县 安仁县 资兴市",
    ),
    (
        "431100",
        "永州市",
        "零陵区 冷水滩区 东安县 双牌县 道县 江永县 宁远县 蓝山县 新田县 江华瑶族自治县 祁阳市",
    ),
    (
        "431200",
        "怀化市",
        "鹤城区 中方县 沅陵县 辰溪县 溆浦县 会同县 麻阳苗族自治县 新晃侗族自治县 芷江侗族自治县 "
        "靖州苗族侗族自治县 通道侗族自治县 洪江市",
    ),
    ("431300", "娄底市", "娄星区 双峰县 新化县 冷水江市 涟源市"),
    ("433100", "湘西土家族苗族自治州", "吉首市 泸溪县 凤凰县 花垣县 保靖县 古丈县 永顺县 龙山县"),
]
XIANGXI_CODES = ["433101", "433122", "433123", "433124", "433125", "433126", "433127", "433130"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建国 建华 志强 "
    "海燕 红梅 玉兰 晓东 文斌 春花 德明 金花 永胜 小军 丽华 海涛 婷 帆 建军 国庆 志明 卫东 "
    "晓红 雪梅 俊杰 子涵 浩然 思远 雨桐 欣怡 博文 嘉怡 宇航 梓轩 一鸣 晨曦 佳琪"
).split()
FIRM_WORDS = (
    "华鼎 金茂 碧水 恒安 锦绣 瑞丰 嘉和 鑫源 宏达 天成 盛世 新城 长城 鸿运 安居 和美 "
    "泰康 永盛 汇丰 中天 润泽 龙城 凤凰 湘江 洞庭 芙蓉 岳麓 南岭 雪峰 武陵"
).split()
COURSE_TITLES = [
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
RETURN_REASONS = [
    "劳动合同照片不清晰，请重新拍摄上传。",
    "继续教育证明与系统记录的学时不一致，请核对。",
    "学历证书页缺失，请补充上传。",
]

#: Each filing's history (the review events, in order), by route.
ROUTES = {
    "draft": ["start"],
    "awaiting_firm": ["start", "submit"],
    "awaiting_bureau": ["start", "submit", "firm_approve"],
    "approved": ["start", "submit", "firm_approve", "bureau_approve"],
    "returned_firm": ["start", "submit", "firm_return"],
    "returned_bureau": ["start", "submit", "firm_approve", "bureau_return"],
}
STATUS_AFTER = {
    "start": "draft",
    "submit": "awaiting_firm",
    "firm_approve": "awaiting_bureau",
    "bureau_approve": "approved",
    "firm_return": "returned",
    "bureau_return": "returned",
}
#: Shares of the managers by their filing of the closed year and of this year (the rest: none).
CLOSED_YEAR_ROUTES = [
    ("approved", 0.64),
    ("returned_firm", 0.01),
    ("returned_bureau", 0.01),
    ("awaiting_bureau", 0.01),
    ("awaiting_firm", 0.01),
    ("draft", 0.02),
]
OPEN_YEAR_ROUTES = [
    ("draft", 0.08),
    ("awaiting_firm", 0.10),
    ("awaiting_bureau", 0.05),
    ("approved", 0.04),
    ("returned_firm", 0.02),
    ("returned_bureau", 0.01),
]
PROOF_KINDS = ["id_card", "diploma", "title", "ce", "contract"]
PROOF_NAMES = {
    "id_card": "身份证.png",
    "diploma": "学历证书.png",
    "title": "职业技能等级证书.png",
    "ce": "继续教育证明.png",
    "contract": "劳动合同.png",
}
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _png(label: str) -> bytes:
    image = Image.new("RGB", (320, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([6, 6, 314, 194], outline="darkred", width=4)
    draw.text((40, 90), label, fill="black")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _credit_code(region: str, org: str) -> str:
    first17 = "91" + region + org
    return first17 + credit_code_check_char(first17)


def _pick(rng: random.Random, shares: list[tuple[str, float]]) -> str | None:
    r = rng.random()
    for name, share in shares:
        if r < share:
            return name
        r -= share
    return None


def firm_sizes(managers: int, firms: int) -> list[int]:
    """Managers per firm, very unequal as firms are (Zipf-like: 1/(k+10)), summing to
    `managers`, each firm at least one."""
    weights = [1 / (k + 10) for k in range(firms)]
    total = sum(weights)
    sizes = [max(1, int(managers * w / total)) for w in weights]
    k = 0
    while sum(sizes) < managers:
        sizes[k % firms] += 1
        k += 1
    while sum(sizes) > managers:
        k = max(range(firms), key=sizes.__getitem__)
        sizes[k] -= 1
    return sizes


class Command(BaseCommand):
    help = "Build a province-scale data set for load tests (development only; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--managers", type=int, default=100_000)
        parser.add_argument("--firms", type=int, default=2_000)
        parser.add_argument(
            "--print-accounts",
            action="store_true",
            help="Only list the accounts a load test logs in as (and the public look-ups).",
        )

    def handle(self, *args, managers: int, firms: int, print_accounts: bool, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale makes accounts with a published password: DEBUG only.")
        if print_accounts:
            self.print_accounts(full=True)
            return
        if managers < 10 or firms < 1 or firms > managers:
            raise CommandError(
                "At least 10 managers and one firm, and no more firms than managers."
            )
        existing = User.objects.filter(email__startswith="m", email__endswith="@" + DOMAIN).count()
        if existing:
            self.stdout.write(
                f"The province is there already ({existing:,} managers); nothing to do. "
                "(Another size: drop the database first.)"
            )
            self.print_accounts(full=False)
            return
        self.started = time.perf_counter()
        self.today = timezone.localdate()
        self.now = timezone.now()
        # The year being filed now, and the last year whose window has closed.
        self.open_year = self.today.year if self.today.month > 3 else self.today.year - 1
        self.closed_year = self.open_year - 1
        with transaction.atomic():
            self.build(managers=managers, firms=firms)
        # Statistics for the planner and the visibility map for index-only scans, as
        # autovacuum would leave them some minutes later. (Inside a transaction, as in the
        # tests, VACUUM cannot run: the statistics then.)
        vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        self.log(vacuum)
        with connection.cursor() as cursor:
            cursor.execute(vacuum)
        self.log("done")
        self.print_accounts(full=False)

    # --- output ------------------------------------------------------------------------------

    def log(self, message: str) -> None:
        self.stderr.write(f"[{time.perf_counter() - self.started:6.1f}s] {message}")

    def print_accounts(self, *, full: bool) -> None:
        """`role email detail` lines, `public number name code` lines for the public look-up,
        and the password and TOTP secret. Without `full`, a few of each."""
        limit = None if full else 3
        write = self.stdout.write
        write(f"password {PASSWORD}")
        write(f"totp {TOTP_SECRET}")
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT u.email, p.registration_number, coalesce(f.status, '-')
                  FROM accounts_user u
                  JOIN accounts_managerprofile p ON p.user_id = u.id
                  LEFT JOIN registry_annualfiling f ON f.manager_id = p.id AND f.year = %s
                 WHERE u.email LIKE %s
                 ORDER BY (p.id * 7919) %% 100003, p.id LIMIT %s
                """,
                [self._open_year(), f"m%@{DOMAIN}", limit or 2000],
            )
            for email, number, status in cursor.fetchall():
                write(f"manager {email} {number} {status}")
            # Reviewers of the largest firms first.
            cursor.execute(
                """
                SELECT u.email, f.name, count(e.id) AS n
                  FROM accounts_user u
                  JOIN accounts_firmmembership fm ON fm.user_id = u.id
                  JOIN accounts_firm f ON f.id = fm.firm_id
                  JOIN accounts_employment e ON e.firm_id = f.id AND e.status = 'active'
                 WHERE u.email LIKE %s
                 GROUP BY u.email, f.name, f.id
                 ORDER BY n DESC, u.email
                 LIMIT %s
                """,
                [f"firm-%@{DOMAIN}", limit or 200],
            )
            for email, name, n in cursor.fetchall():
                write(f"firm {email} {n} {name}")
            cursor.execute(
                """
                SELECT u.email, j.level, j.name
                  FROM accounts_user u
                  JOIN accounts_bureaumembership b ON b.user_id = u.id
                  JOIN accounts_jurisdiction j ON j.id = b.jurisdiction_id
                 WHERE u.email LIKE %s
                 ORDER BY j.path LIMIT %s
                """,
                [f"bureau-%@{DOMAIN}", limit or 1000],
            )
            for email, level, name in cursor.fetchall():
                write(f"bureau {email} {level} {name}")
            cursor.execute(
                """
                SELECT p.registration_number, p.real_name, f.certificate_code
                  FROM registry_annualfiling f
                  JOIN accounts_managerprofile p ON p.id = f.manager_id
                  JOIN accounts_user u ON u.id = p.user_id
                 WHERE f.status = 'approved' AND u.email LIKE %s
                 ORDER BY (f.id * 7919) %% 100003, f.id LIMIT %s
                """,
                [f"m%@{DOMAIN}", limit or 500],
            )
            for number, name, code in cursor.fetchall():
                write(f"public {number} {name} {code}")
        if not full:
            write(
                "  (every account has the password above; bureau accounts need the TOTP code: "
                "`manage.py demo_totp`. The full list: `manage.py seed_scale --print-accounts`.)"
            )

    def _open_year(self) -> int:
        today = timezone.localdate()
        return today.year if today.month > 3 else today.year - 1

    # --- the data ----------------------------------------------------------------------------

    def build(self, *, managers: int, firms: int) -> None:
        rng = random.Random(20261130)
        self.cursor = connection.cursor()
        counties = self.jurisdictions()
        self.files()
        self.training(counties)
        firm_rows = self.firms(firms, counties, rng)
        self.people(managers, firm_rows, rng)
        self.study_records()
        self.filings(rng)
        self.conduct_records()
        self.statuses()
        self.notices()
        self.cursor.execute("SELECT count(*) FROM scale_m")
        self.log(f"{self.cursor.fetchone()[0]:,} managers written; committing")

    def sql(self, label: str, statement: str, params=None) -> int:
        self.cursor.execute(statement, params)
        count = self.cursor.rowcount
        if label:
            self.log(f"{label}: {count:,}")
        return count

    def copy(self, table: str, columns: list[str], rows) -> None:
        """COPY rows (tuples; None is NULL) into a table, in CSV."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(["\\N" if v is None else v for v in row])
        buffer.seek(0)
        self.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            buffer,
        )

    def jurisdictions(self) -> list[Jurisdiction]:
        def get(code, name, level, parent):
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

        province = get(*PROVINCE, Jurisdiction.Level.PROVINCE, None)
        counties = []
        for code, name, county_names in PREFECTURES:
            prefecture = get(code, name, Jurisdiction.Level.PREFECTURE, province)
            for n, county in enumerate(county_names.split()):
                county_code = XIANGXI_CODES[n] if code == "433100" else f"{code[:4]}{n + 2:02d}"
                counties.append(get(county_code, county, Jurisdiction.Level.COUNTY, prefecture))
        self.province = province
        self.log(
            f"jurisdictions: 1 province, {len(PREFECTURES)} prefectures, {len(counties)} counties"
        )
        return counties

    def files(self) -> None:
        """The few stored files every proof, certificate and piece of evidence points to."""
        self.proof_files = {}
        for kind in PROOF_KINDS:
            content = _png(f"{kind} (scale data)")
            name = default_storage.save(f"proofs/scale/{kind}.png", ContentFile(content))
            self.proof_files[kind] = (name, len(content))
        self.certificate_file = default_storage.save(
            "certificates/scale/certificate.png", ContentFile(_png("certificate (scale data)"))
        )
        self.evidence_file = default_storage.save(
            "conduct/scale/evidence.png", ContentFile(_png("evidence (scale data)"))
        )

    def training(self, counties: list[Jurisdiction]) -> None:
        for year in (self.open_year - 2, self.closed_year, self.open_year):
            HoursRule.objects.get_or_create(
                jurisdiction=self.province, year=year, defaults={"annual_minimum": ANNUAL_MINIMUM}
            )
        # This year's window is open now: the filings of this year are being submitted.
        FilingWindow.objects.get_or_create(
            jurisdiction=self.province,
            year=self.open_year,
            defaults={
                "opens_on": min(
                    self.today - dt.timedelta(days=30), dt.date(self.open_year + 1, 1, 1)
                ),
                "closes_on": max(
                    self.today + dt.timedelta(days=60), dt.date(self.open_year + 1, 3, 31)
                ),
            },
        )
        prefectures = list(Jurisdiction.objects.filter(level="prefecture", parent=self.province))
        providers = []
        for n in range(10):
            provider, _ = Provider.objects.get_or_create(
                credit_code=_credit_code("430000", f"MP{n:07d}"),
                defaults={
                    "name": f"{prefectures[n % len(prefectures)].name}物业管理继续教育培训中心{n + 1}",
                    "jurisdiction": self.province if n < 2 else prefectures[n % len(prefectures)],
                    "status": Provider.Status.APPROVED,
                    "approved_from": dt.date(self.open_year - 3, 1, 1),
                    "approved_until": dt.date(self.open_year + 2, 12, 31),
                },
            )
            providers.append(provider)
        courses = []
        for n in range(COURSES):
            category, title = COURSE_TITLES[n % len(COURSE_TITLES)]
            year = self.open_year - 2 + n % 3
            course, _ = Course.objects.get_or_create(
                code=f"SC{year}-{n:04d}",
                defaults={
                    "provider": providers[n % len(providers)],
                    "title": f"{title}（第{n // len(COURSE_TITLES) + 1}期）",
                    "hours": [6, 8, 12, 16][n % 4],
                    "mode": ["online", "offline", "blended"][n % 3],
                    "category": category,
                    "start_date": dt.date(year, 1, 1),
                    "end_date": dt.date(year, 12, 31),
                },
            )
            courses.append(course)
        self.providers = providers
        self.sql(
            "",
            "CREATE TEMP TABLE scale_course (n int PRIMARY KEY, id bigint, hours numeric) ON COMMIT DROP",
        )
        self.copy(
            "scale_course",
            ["n", "id", "hours"],
            ((n, c.pk, c.hours) for n, c in enumerate(courses)),
        )
        self.log(f"hours rules, this year's window, {len(providers)} providers, {COURSES} courses")

    def firms(self, count: int, counties: list[Jurisdiction], rng: random.Random) -> list:
        firms = []
        for k in range(count):
            county = counties[(k * 37) % len(counties)]
            words = FIRM_WORDS[k % 30] + FIRM_WORDS[(k // 30 + 11) % 30]
            kind = "物业服务有限公司" if k % 3 else "物业管理有限公司"
            firms.append(
                Firm(
                    name=f"{county.name}{words}{kind}"
                    + (f"第{k // 900 + 1}分公司" if k >= 900 else ""),
                    credit_code=_credit_code(county.code, f"MK{k:07d}"),
                    jurisdiction=county,
                    contact_person="综合办公室",
                    contact_phone=f"0731-8{k:07d}",
                    address=f"{county.name}人民路{k % 300 + 1}号",
                )
            )
        firms = Firm.objects.bulk_create(firms, batch_size=2000)
        self.log(f"firms: {len(firms):,}")
        return firms

    def people(self, managers: int, firms: list, rng: random.Random) -> None:
        """Accounts (managers, reviewers, bureau staff, providers' staff), e-mail addresses,
        memberships, authenticators, the managers' profiles and their employments."""
        password = make_password(PASSWORD)
        sizes = firm_sizes(managers, len(firms))
        field = ManagerProfile._meta.get_field("id_number")
        c = self.cursor
        self.sql(
            "",
            """
            CREATE TEMP TABLE scale_m (
                i int PRIMARY KEY, firm_id bigint, county_id bigint, name text, id_enc text,
                id_hash text, masked text, phone text, education text, title text, skill text,
                position text, start_date date, closed_route text, open_route text,
                user_id bigint, profile_id bigint, reviewer_id bigint, bureau_id bigint
            ) ON COMMIT DROP
            """,
        )
        educations = ["senior_high", "junior_college", "junior_college", "bachelor", "master"]
        titles = ["none", "none", "junior", "intermediate", "associate_senior"]
        skills = ["level4", "level3", "level3", "level2", "level1", "certified"]
        positions = ["项目经理", "物业管理员", "客服主管", "工程主管", "项目副经理"]

        def rows():
            i = 0
            for firm, size in zip(firms, sizes, strict=True):
                for _ in range(size):
                    county = firm.jurisdiction
                    # Unique by construction: births 1953-1967 (the demo's are later), 1,000 a day.
                    birth = dt.date(1953, 1, 1) + dt.timedelta(days=(i // 1000) * 53)
                    first17 = f"{county.code}{birth:%Y%m%d}{i % 1000:03d}"
                    number = first17 + id_number_check_char(first17)
                    yield (
                        i,
                        firm.pk,
                        county.pk,
                        SURNAMES[rng.randrange(len(SURNAMES))] + GIVEN[rng.randrange(len(GIVEN))],
                        field.get_prep_value(number),
                        id_number_hash(number),
                        mask_id_number(number),
                        f"139{i:08d}",
                        educations[rng.randrange(5)],
                        titles[rng.randrange(5)],
                        skills[rng.randrange(6)],
                        positions[rng.randrange(5)],
                        dt.date(2012 + rng.randrange(12), 1 + rng.randrange(12), 1),
                        _pick(rng, CLOSED_YEAR_ROUTES),
                        _pick(rng, OPEN_YEAR_ROUTES),
                    )
                    i += 1

        columns = [
            "i",
            "firm_id",
            "county_id",
            "name",
            "id_enc",
            "id_hash",
            "masked",
            "phone",
            "education",
            "title",
            "skill",
            "position",
            "start_date",
            "closed_route",
            "open_route",
        ]
        self.copy("scale_m", columns, rows())
        self.log(f"managers prepared (ID numbers encrypted, blind index): {managers:,}")

        joined = dt.datetime(self.open_year - 3, 6, 1, 9, tzinfo=dt.UTC)
        user_columns = (
            "password, last_login, is_superuser, first_name, last_name, is_staff, is_active, "
            "date_joined, email, language"
        )
        self.sql(
            "manager accounts",
            f"""
            INSERT INTO accounts_user ({user_columns})
            SELECT %s, NULL, false, '', '', false, true, %s, 'm' || lpad(i::text, 6, '0') || %s,
                   'zh-hans'
              FROM scale_m ORDER BY i
            """,
            [password, joined, "@" + DOMAIN],
        )
        self.sql(
            "",
            """
            UPDATE scale_m s SET user_id = u.id FROM accounts_user u
             WHERE u.email = 'm' || lpad(s.i::text, 6, '0') || %s
            """,
            ["@" + DOMAIN],
        )
        # A reviewer (administrator) for every firm; a second one for firms of 500 and more.
        self.sql(
            "",
            "CREATE TEMP TABLE scale_firm (k int, id bigint, county_id bigint, size int) ON COMMIT DROP",
        )
        self.copy(
            "scale_firm",
            ["k", "id", "county_id", "size"],
            (
                (k, f.pk, f.jurisdiction_id, size)
                for k, (f, size) in enumerate(zip(firms, sizes, strict=True))
            ),
        )
        self.sql(
            "reviewer accounts",
            f"""
            INSERT INTO accounts_user ({user_columns})
            SELECT %s, NULL, false, '', '', false, true, %s,
                   'firm-' || lpad(k::text, 4, '0') || suffix || %s, 'zh-hans'
              FROM scale_firm
              CROSS JOIN (VALUES (''), ('-b')) AS two(suffix)
             WHERE suffix = '' OR size >= 500
            """,
            [password, joined, "@" + DOMAIN],
        )
        self.sql(
            "",
            """
            INSERT INTO accounts_firmmembership (user_id, firm_id, role, created_at)
            SELECT u.id, f.id, CASE WHEN u.email LIKE '%%-b@%%' THEN 'reviewer' ELSE 'admin' END,
                   %s
              FROM scale_firm f
              JOIN accounts_user u
                ON u.email IN ('firm-' || lpad(f.k::text, 4, '0') || %s,
                               'firm-' || lpad(f.k::text, 4, '0') || '-b' || %s)
            """,
            [joined, "@" + DOMAIN, "@" + DOMAIN],
        )
        # Bureau staff: two at the province, one in each prefecture and county.
        self.sql(
            "bureau accounts",
            f"""
            INSERT INTO accounts_user ({user_columns})
            SELECT %s, NULL, false, '', '', true, true, %s, 'bureau-' || code || suffix || %s,
                   'zh-hans'
              FROM accounts_jurisdiction
              CROSS JOIN (VALUES (''), ('-b')) AS two(suffix)
             WHERE path LIKE %s AND (suffix = '' OR level = 'province')
            """,
            [password, joined, "@" + DOMAIN, self.province.path + "%"],
        )
        self.sql(
            "",
            """
            INSERT INTO accounts_bureaumembership (user_id, jurisdiction_id, title, created_at)
            SELECT u.id, j.id, '科员', %s
              FROM accounts_jurisdiction j
              JOIN accounts_user u
                ON u.email IN ('bureau-' || j.code || %s, 'bureau-' || j.code || '-b' || %s)
             WHERE j.path LIKE %s
            """,
            [joined, "@" + DOMAIN, "@" + DOMAIN, self.province.path + "%"],
        )
        group = bureau_group_ensure()
        self.sql(
            "",
            """
            INSERT INTO accounts_user_groups (user_id, group_id)
            SELECT id, %s FROM accounts_user WHERE email LIKE %s
            """,
            [group.pk, f"bureau-%@{DOMAIN}"],
        )
        for user in User.objects.filter(email__startswith="bureau-", email__endswith="@" + DOMAIN):
            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                TOTP.activate(user, TOTP_SECRET)
        # Providers' staff.
        self.sql(
            "",
            f"""
            INSERT INTO accounts_user ({user_columns})
            SELECT %s, NULL, false, '', '', false, true, %s,
                   'provider-' || lpad(n::text, 2, '0') || %s, 'zh-hans'
              FROM generate_series(0, %s) n
            """,
            [password, joined, "@" + DOMAIN, len(self.providers) - 1],
        )
        for n, provider in enumerate(self.providers):
            self.sql(
                "",
                """
                INSERT INTO training_providerstaff (user_id, provider_id)
                SELECT id, %s FROM accounts_user WHERE email = %s
                """,
                [provider.pk, f"provider-{n:02d}@{DOMAIN}"],
            )
        self.sql(
            "verified e-mail addresses",
            """
            INSERT INTO account_emailaddress (user_id, email, verified, "primary")
            SELECT id, email, true, true FROM accounts_user WHERE email LIKE %s
            """,
            ["%@" + DOMAIN],
        )
        self.sql(
            "",
            """
            UPDATE scale_m s SET reviewer_id = u.id FROM scale_firm f, accounts_user u
             WHERE f.id = s.firm_id AND u.email = 'firm-' || lpad(f.k::text, 4, '0') || %s
            """,
            ["@" + DOMAIN],
        )
        self.sql(
            "",
            """
            UPDATE scale_m s SET bureau_id = b.user_id FROM accounts_bureaumembership b
             WHERE b.jurisdiction_id = s.county_id
            """,
        )
        registered = dt.datetime(self.open_year - 3, 6, 1, 10, tzinfo=dt.UTC)
        self.sql(
            "manager profiles",
            """
            WITH made AS (
                INSERT INTO accounts_managerprofile (
                    user_id, real_name, id_number, id_number_hash, phone, education, title,
                    skill_level, certificate_number, registration_number, jurisdiction_id,
                    completed_at, registration_status, registered_at, registration_reason,
                    created_at, updated_at, sms_opt_out)
                SELECT user_id, name, id_enc, id_hash, phone, education, title, skill, '',
                       'PM' || %s || lpad(nextval('accounts_registration_number_seq')::text, 6, '0'),
                       county_id, %s, 'registered', %s, '', %s, %s, false
                  FROM scale_m ORDER BY i
                RETURNING id, user_id
            )
            UPDATE scale_m s SET profile_id = made.id FROM made WHERE made.user_id = s.user_id
            """,
            [str(registered.year), registered, registered, registered, registered],
        )
        c.execute("CREATE INDEX ON scale_m (profile_id)")
        self.sql(
            "employments",
            """
            INSERT INTO accounts_employment (
                manager_id, firm_id, status, position, start_date, end_date, requested_by_id,
                decided_by_id, ended_by_id, created_at, decided_at)
            SELECT profile_id, firm_id, 'active', position, start_date, NULL, user_id,
                   reviewer_id, NULL, %s, %s
              FROM scale_m
            """,
            [registered, registered + dt.timedelta(days=2)],
        )

    def study_records(self) -> None:
        """Ten per manager over the last three years: mostly reported by a provider and
        verified, some self-reported (a certificate; pending, verified or rejected), one in
        twenty failed."""
        first = self.open_year - 2
        # The open year's records lie before today.
        span_open = max(30, (self.today - dt.date(self.open_year, 1, 1)).days)
        self.sql(
            f"study records ({RECORDS_PER_MANAGER} a manager)",
            """
            INSERT INTO training_studyrecord (
                manager_id, course_id, external_title, external_provider, completed_on, hours,
                assessment, score, certificate, certificate_name, certificate_sha256, source,
                status, rejection_reason, verified_by_id, verified_at, report_id, created_at)
            SELECT m.profile_id, c.id, '', '', r.completed_on, c.hours,
                   CASE WHEN r.h %% 20 = 0 THEN 'failed' ELSE 'passed' END,
                   CASE WHEN r.h %% 20 = 0 THEN 45 + r.h %% 14 ELSE 62 + r.h %% 37 END,
                   CASE WHEN r.self THEN %s ELSE '' END,
                   CASE WHEN r.self THEN '结业证书.png' ELSE '' END,
                   -- One stored file for all, but each stands for a document of its own: a
                   -- content hash per record (the audit's shared-certificate rule finds none).
                   CASE WHEN r.self THEN encode(sha256(convert_to(
                       'certificate-' || m.i || '-' || j, 'UTF8')), 'hex') ELSE '' END,
                   CASE WHEN r.self THEN 'self' ELSE 'provider' END,
                   CASE WHEN NOT r.self THEN 'verified'
                        WHEN r.h %% 4 = 0 THEN 'pending'
                        WHEN r.h %% 4 = 1 THEN 'rejected'
                        ELSE 'verified' END,
                   CASE WHEN r.self AND r.h %% 4 = 1 THEN '证书信息与课程不符。' ELSE '' END,
                   CASE WHEN r.self AND r.h %% 4 IN (1, 2, 3) THEN m.bureau_id END,
                   CASE WHEN NOT r.self OR r.h %% 4 <> 0 THEN r.completed_on + time '18:00' END,
                   NULL,
                   r.completed_on + time '17:00'
              FROM scale_m m
              CROSS JOIN generate_series(0, %s) j
              CROSS JOIN LATERAL (
                  SELECT (m.i * 31 + j * 7) %% 1000 AS h,
                         ((m.i * 7 + j * 13) %% %s) AS course_n,
                         (m.i + j) %% 10 < 2 AS self,
                         CASE WHEN j < 3 THEN make_date(%s, 1, 1) + ((m.i * 13 + j * 101) %% 360)
                              WHEN j < 6 THEN make_date(%s, 1, 1) + ((m.i * 13 + j * 101) %% 360)
                              ELSE make_date(%s, 1, 1) + ((m.i * 13 + j * 101) %% %s) END
                              AS completed_on
              ) r
              JOIN scale_course c ON c.n = r.course_n
            """,
            [
                self.certificate_file,
                RECORDS_PER_MANAGER - 1,
                COURSES,
                first,
                first + 1,
                self.open_year,
                span_open,
            ],
        )
        # The hours that count, per manager and year: for the snapshots and the statuses.
        self.sql(
            "",
            """
            CREATE TEMP TABLE scale_hours ON COMMIT DROP AS
            SELECT r.manager_id, extract(year FROM r.completed_on)::int AS year,
                   coalesce(sum(r.hours) FILTER (
                       WHERE r.status = 'verified' AND r.assessment = 'passed'), 0) AS hours
              FROM training_studyrecord r JOIN scale_m m ON m.profile_id = r.manager_id
             GROUP BY 1, 2
            """,
        )
        self.sql("", "CREATE UNIQUE INDEX ON scale_hours (manager_id, year)")

    def filings(self, rng: random.Random) -> None:
        """Filings of the closed year (mostly approved before its close) and of this year (in
        every state), each with its review events, its proofs, the frozen snapshot and the lock
        of the year's study records; certificate codes for the approved ones."""
        c = self.cursor
        self.sql(
            "",
            """
            CREATE TEMP TABLE scale_route (
                route text, step int, action text, from_status text, to_status text
            ) ON COMMIT DROP
            """,
        )
        route_rows = []
        for route, actions in ROUTES.items():
            previous = ""
            for step, action in enumerate(actions):
                route_rows.append((route, step, action, previous, STATUS_AFTER[action]))
                previous = STATUS_AFTER[action]
        self.copy(
            "scale_route", ["route", "step", "action", "from_status", "to_status"], route_rows
        )
        closed_opens = dt.datetime(self.closed_year + 1, 1, 2, 9, tzinfo=dt.UTC)
        window = FilingWindow.objects.get(jurisdiction=self.province, year=self.open_year)
        open_opens = dt.datetime.combine(window.opens_on, dt.time(9), tzinfo=dt.UTC)
        # Each filing starts on a day of its window, its steps two days apart, all in the past.
        open_span = max(1, (self.today - window.opens_on).days - 8)
        self.sql(
            "",
            """
            CREATE TEMP TABLE scale_f ON COMMIT DROP AS
            SELECT m.i, m.profile_id, y.year, y.route,
                   y.opens + make_interval(days => (m.i * 7) %% y.span, mins => (m.i * 13) %% 600)
                       AS started
              FROM scale_m m
              CROSS JOIN LATERAL (VALUES
                  (%s, m.closed_route, %s::timestamptz, 60),
                  (%s, m.open_route, %s::timestamptz, %s)
              ) AS y(year, route, opens, span)
             WHERE y.route IS NOT NULL
            """,
            [self.closed_year, closed_opens, self.open_year, open_opens, open_span],
        )
        # Certificate codes of the approved ones: unique, in the alphabet of the real ones.
        c.execute("SELECT i, year FROM scale_f WHERE route = 'approved' ORDER BY i, year")
        approved = c.fetchall()
        codes: set[str] = set()
        while len(codes) < len(approved):
            codes.add("".join(rng.choice(CODE_ALPHABET) for _ in range(12)))
        self.sql("", "CREATE TEMP TABLE scale_code (i int, year int, code text) ON COMMIT DROP")
        self.copy(
            "scale_code",
            ["i", "year", "code"],
            ((i, year, code) for (i, year), code in zip(approved, sorted(codes), strict=True)),
        )
        self.sql("", "CREATE UNIQUE INDEX ON scale_code (i, year)")
        self.sql(
            "", "CREATE TEMP TABLE scale_last (route text, last int, status text) ON COMMIT DROP"
        )
        self.copy(
            "scale_last",
            ["route", "last", "status"],
            (
                (route, len(actions) - 1, STATUS_AFTER[actions[-1]])
                for route, actions in ROUTES.items()
            ),
        )
        step = "interval '2 days'"
        self.sql(
            "filings",
            f"""
            INSERT INTO registry_annualfiling (
                manager_id, year, status, firm_id, jurisdiction_id, snapshot, round,
                return_reason, submitted_at, firm_approved_at, approved_at, certificate_code,
                created_at, updated_at)
            SELECT f.profile_id, f.year, l.status, m.firm_id, m.county_id,
                   CASE WHEN l.last = 0 THEN '{{}}'::jsonb ELSE jsonb_build_object(
                       'profile', jsonb_build_object(
                           'real_name', m.name, 'masked_id_number', m.masked,
                           'registration_number', p.registration_number, 'phone', m.phone,
                           'education', m.education, 'title', m.title,
                           'skill_level', m.skill, 'certificate_number', ''),
                       'firm', jsonb_build_object(
                           'id', firm.id, 'name', firm.name, 'credit_code', firm.credit_code,
                           'jurisdiction', j.name),
                       'employment', jsonb_build_object(
                           'position', m.position, 'start_date', m.start_date::text),
                       'compliance', jsonb_build_object(
                           'year', f.year, 'has_rule', true, 'required_year', %s,
                           'required_cycle', NULL, 'cycle_start', NULL,
                           'hours_year', coalesce(h.hours, 0)::text,
                           'hours_cycle', coalesce(h.hours, 0)::text,
                           'hours_needed', greatest(%s - coalesce(h.hours, 0), 0)::text,
                           'compliant', coalesce(h.hours, 0) >= %s)
                   ) END,
                   CASE WHEN l.last = 0 THEN 0 ELSE 1 END,
                   CASE WHEN l.status = 'returned' THEN %s ELSE '' END,
                   CASE WHEN l.last >= 1 THEN f.started + {step} END,
                   CASE WHEN f.route IN ('awaiting_bureau', 'approved', 'returned_bureau')
                        THEN f.started + 2 * {step} END,
                   CASE WHEN f.route = 'approved' THEN f.started + 3 * {step} END,
                   sc.code,
                   f.started,
                   f.started + l.last * {step}
              FROM scale_f f
              JOIN scale_last l ON l.route = f.route
              JOIN scale_m m ON m.i = f.i
              JOIN accounts_managerprofile p ON p.id = f.profile_id
              JOIN accounts_firm firm ON firm.id = m.firm_id
              JOIN accounts_jurisdiction j ON j.id = m.county_id
              LEFT JOIN scale_hours h ON h.manager_id = f.profile_id AND h.year = f.year
              LEFT JOIN scale_code sc ON sc.i = f.i AND sc.year = f.year
            """,
            [
                f"{ANNUAL_MINIMUM}.0",
                ANNUAL_MINIMUM,
                ANNUAL_MINIMUM,
                RETURN_REASONS[0],
            ],
        )
        self.sql(
            "",
            """
            ALTER TABLE scale_f ADD COLUMN filing_id bigint;
            UPDATE scale_f f SET filing_id = a.id FROM registry_annualfiling a
             WHERE a.manager_id = f.profile_id AND a.year = f.year;
            CREATE INDEX ON scale_f (filing_id);
            """,
        )
        self.sql(
            "review events",
            f"""
            INSERT INTO registry_reviewevent (
                filing_id, actor_id, action, from_status, to_status, reason, created_at)
            SELECT f.filing_id,
                   CASE WHEN r.action IN ('start', 'submit') THEN m.user_id
                        WHEN r.action LIKE 'firm_%%' THEN m.reviewer_id
                        ELSE m.bureau_id END,
                   r.action, r.from_status, r.to_status,
                   CASE WHEN r.action LIKE '%%_return' THEN %s ELSE '' END,
                   f.started + r.step * {step}
              FROM scale_f f
              JOIN scale_route r ON r.route = f.route
              JOIN scale_m m ON m.i = f.i
             ORDER BY f.filing_id, r.step
            """,
            [RETURN_REASONS[0]],
        )
        # Proofs: all five for a submitted filing, some for a draft; a returned filing also
        # keeps the ID card it replaced.
        kinds = ", ".join(
            f"({n}, '{kind}', '{self.proof_files[kind][0]}', '{PROOF_NAMES[kind]}', "
            f"{self.proof_files[kind][1]})"
            for n, kind in enumerate(PROOF_KINDS)
        )
        self.sql(
            "filing proofs",
            f"""
            INSERT INTO registry_filingproof (
                filing_id, kind, file, original_name, mime, size, generated, uploaded_by_id,
                uploaded_at, replaced_at, content_hash)
            SELECT f.filing_id, k.kind, k.file, k.original_name, 'image/png', k.size, false,
                   m.user_id, f.started + make_interval(mins => k.n), NULL,
                   encode(sha256(convert_to('proof-' || f.filing_id || k.kind, 'UTF8')), 'hex')
              FROM scale_f f
              JOIN scale_m m ON m.i = f.i
              CROSS JOIN (VALUES {kinds}) AS k(n, kind, file, original_name, size)
             WHERE f.route <> 'draft' OR k.n < f.i %% 5
            UNION ALL
            SELECT f.filing_id, 'id_card', %s, '身份证（旧）.png', 'image/png', %s, false,
                   m.user_id, f.started - interval '1 day', f.started,
                   encode(sha256(convert_to('proof-' || f.filing_id || 'old', 'UTF8')), 'hex')
              FROM scale_f f JOIN scale_m m ON m.i = f.i
             WHERE f.route LIKE 'returned_%%'
            """,
            [self.proof_files["id_card"][0], self.proof_files["id_card"][1]],
        )
        self.sql(
            "locked study years",
            """
            INSERT INTO training_lockedstudyyear (manager_id, year, locked_at)
            SELECT f.profile_id, f.year, f.started + interval '2 days'
              FROM scale_f f
             WHERE f.route IN ('awaiting_firm', 'awaiting_bureau', 'approved')
            """,
        )

    def conduct_records(self) -> None:
        """One manager in a hundred has a conduct record: good (two thirds) or bad, most of
        them public; the bad ones in force in the closed year."""
        first = dt.date(self.closed_year, 1, 1)
        self.sql(
            "conduct records",
            """
            INSERT INTO registry_conductrecord (
                manager_id, kind, occurred_on, summary, details, evidence, evidence_name,
                effective_from, effective_until, public, recorded_by_id, recorded_at, updated_at)
            SELECT m.profile_id,
                   CASE WHEN m.i %% 3 = 0 THEN 'bad' ELSE 'good' END,
                   %s::date + (m.i %% 300),
                   CASE WHEN m.i %% 3 = 0 THEN '小区消防通道长期堵塞，经责令整改逾期未改'
                        ELSE '获评年度优秀项目经理' END,
                   '', %s, '决定书.png',
                   %s::date + (m.i %% 300),
                   CASE WHEN m.i %% 2 = 0 THEN %s::date + (m.i %% 300) + 365 END,
                   m.i %% 5 <> 0, m.bureau_id, %s, %s
              FROM scale_m m
             WHERE m.i %% 100 = 7
            """,
            [first, self.evidence_file, first, first, self.now, self.now],
        )

    def statuses(self) -> None:
        """The closed year's registry status of every manager, with its credit-record entry,
        as the closing of the window decides them (registry/status.py)."""
        year = self.closed_year
        closed_on = dt.date(year + 1, 3, 31)
        decided = dt.datetime(year + 1, 4, 1, 1, tzinfo=dt.UTC)
        self.sql(
            "",
            """
            CREATE TEMP TABLE scale_status ON COMMIT DROP AS
            SELECT m.profile_id, m.county_id, array_remove(ARRAY[
                       CASE WHEN a.status IS NULL OR a.status = 'draft' THEN 'not_filed' END,
                       CASE WHEN a.status IN ('awaiting_firm', 'awaiting_bureau', 'returned')
                            THEN 'not_approved' END,
                       CASE WHEN coalesce(h.hours, 0) < %s THEN 'hours_short' END,
                       CASE WHEN EXISTS (
                           SELECT 1 FROM registry_conductrecord c
                            WHERE c.manager_id = m.profile_id AND c.kind = 'bad'
                              AND c.effective_from <= %s
                              AND (c.effective_until IS NULL OR c.effective_until >= %s))
                            THEN 'bad_conduct' END
                   ]::varchar[], NULL) AS reasons
              FROM scale_m m
              LEFT JOIN registry_annualfiling a ON a.manager_id = m.profile_id AND a.year = %s
              LEFT JOIN scale_hours h ON h.manager_id = m.profile_id AND h.year = %s
            """,
            [ANNUAL_MINIMUM, closed_on, dt.date(year, 1, 1), year, year],
        )
        self.sql(
            f"registry statuses {year}",
            """
            INSERT INTO registry_registrystatus (
                year, status, reasons, manager_id, jurisdiction_id, closed_on, decided_at,
                updated_at)
            SELECT %s, CASE WHEN cardinality(reasons) = 0 THEN 'normal' ELSE 'abnormal' END,
                   reasons, profile_id, county_id, %s, %s, %s
              FROM scale_status
            """,
            [year, closed_on, decided, decided],
        )
        self.sql(
            "credit-record entries",
            """
            INSERT INTO registry_creditentry (
                year, status, reasons, manager_id, previous_status, cause, actor_id, created_at)
            SELECT %s, CASE WHEN cardinality(reasons) = 0 THEN 'normal' ELSE 'abnormal' END,
                   reasons, profile_id, '', 'window_closed', NULL, %s
              FROM scale_status
            """,
            [year, decided],
        )

    def notices(self) -> None:
        """The notices the workflow, the reminders and the closing would have written: read
        if older than two weeks, every e-mail sent."""
        K = Notice.Kind
        recent = self.now - dt.timedelta(days=14)
        columns = (
            "recipient_id, kind, params, link, year, milestone, created_at, read_at, "
            "email_state, email_error, emailed_at, claimed_at, attempts, "
            "sms_state, sms_error, sms_attempts"
        )
        tail = (
            "CASE WHEN {t} < %(recent)s THEN {t} + interval '1 day' END, 'sent', '', {t}, {t}, 1, "
            "'not_wanted', '', 0"
        )
        params = {"recent": recent}
        event_notice = f"""
            INSERT INTO notifications_notice ({columns})
            SELECT {{recipient}}, {{kind}},
                   jsonb_build_object('year', a.year, 'name', m.name, 'firm', firm.name,
                                      'reason', e.reason),
                   {{link}}, a.year, 'event-' || e.id, e.created_at,
                   {tail.format(t="e.created_at")}
              FROM registry_reviewevent e
              JOIN scale_f f ON f.filing_id = e.filing_id
              JOIN registry_annualfiling a ON a.id = e.filing_id
              JOIN scale_m m ON m.i = f.i
              JOIN accounts_firm firm ON firm.id = m.firm_id
              {{join}}
             WHERE e.action IN ({{actions}})
        """
        own = "'/me/filing/?year=' || a.year"
        firm_link = "'/firm/filings/' || a.id || '/'"
        self.sql(
            "notices to managers",
            event_notice.format(
                recipient="m.user_id",
                kind=f"""CASE e.action WHEN 'submit' THEN '{K.FILING_SUBMITTED}'
                                       WHEN 'firm_approve' THEN '{K.FILING_FORWARDED}'
                                       WHEN 'bureau_approve' THEN '{K.FILING_APPROVED}'
                                       ELSE '{K.FILING_RETURNED}' END""",
                link=own,
                join="",
                actions="'submit', 'firm_approve', 'firm_return', 'bureau_approve', "
                "'bureau_return'",
            ),
            params,
        )
        self.sql(
            "notices to firms",
            event_notice.format(
                recipient="fm.user_id",
                kind=f"""CASE e.action WHEN 'submit' THEN '{K.FILING_TO_REVIEW}'
                                       ELSE '{K.FILING_RETURNED}' END""",
                link=firm_link,
                join="JOIN accounts_firmmembership fm ON fm.firm_id = m.firm_id",
                actions="'submit', 'bureau_return'",
            ),
            params,
        )
        self.sql(
            "notices to bureaus",
            event_notice.format(
                recipient="m.bureau_id",
                kind=f"'{K.FILING_TO_REVIEW}'",
                link="'/admin/registry/annualfiling/' || a.id || '/change/'",
                join="",
                actions="'firm_approve'",
            ),
            params,
        )
        window = FilingWindow.objects.get(jurisdiction=self.province, year=self.open_year)
        opened = dt.datetime.combine(window.opens_on, dt.time(1), tzinfo=dt.UTC)
        self.sql(
            "reminders",
            f"""
            INSERT INTO notifications_notice ({columns})
            SELECT m.user_id, %(kind)s,
                   jsonb_build_object('year', %(year)s, 'closes_on', %(closes)s,
                                      'days_left', %(days)s),
                   '/me/filing/?year=' || %(year)s, %(year)s, 'open', %(t)s,
                   {tail.format(t="%(t)s")}
              FROM scale_m m
             WHERE m.open_route IS NULL OR m.open_route = 'draft'
            """,
            {
                **params,
                "kind": K.REMIND_NOT_SUBMITTED,
                "year": self.open_year,
                "closes": window.closes_on.isoformat(),
                "days": (window.closes_on - window.opens_on).days,
                "t": opened,
            },
        )
        decided = dt.datetime(self.closed_year + 1, 4, 1, 1, tzinfo=dt.UTC)
        self.sql(
            "status notices",
            f"""
            INSERT INTO notifications_notice ({columns})
            SELECT m.user_id, %(kind)s,
                   jsonb_build_object('year', %(year)s, 'reasons', to_jsonb(s.reasons)),
                   '/me/credit/', %(year)s, 'close', %(t)s, {tail.format(t="%(t)s")}
              FROM scale_status s JOIN scale_m m ON m.profile_id = s.profile_id
             WHERE cardinality(s.reasons) > 0
            """,
            {**params, "kind": K.STATUS_ABNORMAL, "year": self.closed_year, "t": decided},
        )
        self.sql(
            "",
            f"""
            INSERT INTO notifications_notice ({columns})
            SELECT fm.user_id, %(kind)s, jsonb_build_object('year', %(year)s, 'count', n.count),
                   '/firm/managers/?status=abnormal', %(year)s, 'close-scale', %(t)s,
                   {tail.format(t="%(t)s")}
              FROM (SELECT m.firm_id, count(*) AS count
                      FROM scale_status s JOIN scale_m m ON m.profile_id = s.profile_id
                     WHERE cardinality(s.reasons) > 0 GROUP BY m.firm_id) n
              JOIN accounts_firmmembership fm ON fm.firm_id = n.firm_id
            """,
            {**params, "kind": K.FIRM_ABNORMAL, "year": self.closed_year, "t": decided},
        )
