"""Emails per second through the email engine, next to plain Django ``send_messages``.

    uv run python bench/email_engine.py                          # SQLite in a temporary directory
    uv run python bench/email_engine.py --db postgres            # a fresh PostgreSQL database, dropped at the end
    uv run python bench/email_engine.py --db postgres --pg-name my_email_bench   # name it (shared server)
    uv run python bench/email_engine.py --messages 2000 --recipients 50 --workers 1,2 --timeout 900
    uv run python bench/email_engine.py --db postgres --workers 1 --rounds 5   # the median of 5 rounds

One run, one fresh database, one local SMTP sink (aiosmtpd on 127.0.0.1, in a process of
its own, that counts what it accepts and does nothing else):

1. **Setup** (not measured): ``undersigned migrate``; one organisation, a campaign with
   its template, ``--recipients`` recipients and ``--messages`` letters, each with a
   queued email delivery and, as ``record_delivery`` does, a ``wake_senders()`` call after
   each (it enqueues a ``send_queued`` task unless one is already waiting; ``--tasks one``:
   a single ``send_queued`` task instead, as after an outage).
2. **Worker start-up**: ``undersigned worker --batch`` on an empty queue, wall and CPU.
3. **Reference**: the same messages (same text, HTML alternative and headers, so the same
   size on the wire) as plain ``EmailMultiAlternatives`` objects, handed to
   ``mailers.default.send_messages()`` in this process: one connection for all. It runs
   before and after the engine; the ratio uses the mean. With ``--rounds N`` the engine
   phases run N times, each round followed by a reference run, and each engine run is
   compared with the references just before and after it (the machine's speed drifts;
   neighbours compare like with like); the median ratio is reported.
4. **Engine**: real ``undersigned worker`` processes (1, and 2 in parallel on
   PostgreSQL, polling every ``--worker-interval`` s when idle, as in production), stopped
   with SIGTERM once the sink has accepted every message and no task waits or runs; the DB
   is checked afterwards (every delivery ``sent``, the sink saw each message once).
5. **Where the time goes**: ``sending.send_queued(limit=100)`` called in this process on
   100 re-queued deliveries, under ``CaptureQueriesContext`` (queries per message) with
   timers around the engine's steps and every query; and the worker's cost per task
   (``django_tasks_db``'s worker loop, in this process, on tasks that find nothing to send).

"msgs/s steady" is (messages - 1) / (last accepted - first accepted): it leaves the
worker's start-up out (shown on its own as "start → 1st"). "msgs/s overall" counts from
the worker's start (or from building the first reference message). CPU per message is
the sender's CPU time until the last message was accepted (worker processes less their
start-up, or the reference's thread) plus, on PostgreSQL, the CPU of the database
backends serving our database; what the workers do after the last message (tasks that
find nothing left to send) is shown on its own. On a shared machine CPU per message is
the steadier figure. A delivery that reached the sink twice, or one left unsent, is
reported and makes the exit status 2.

With ``UNDERSIGNED_DKIM_KEY_FILE`` and ``UNDERSIGNED_DKIM_SELECTOR`` in the environment
every message (engine and reference alike) is DKIM-signed; ``LetterEmail.prepare``'s row
then includes the signature.

``--pg-synchronous-commit off`` shows what waiting for the WAL flush at each commit
costs; ``--profile`` adds cProfile output of one batch and of the worker loop.

Everything stays on 127.0.0.1; every loop stops at ``--timeout`` (default 900 s), after
which workers are killed, the sink stopped and the PostgreSQL database dropped.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

from benchkit import LOOPBACK, PostgresDatabase, django_env, undersigned_command
from smtp_sink import SmtpSink

MAIL_DOMAIN = "undersigned.test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BATCH = 100  # the engine's batch size, and the instrumented batch
LETTER_BODY = (
    "Dear {{ recipient.name }},\n\n"
    "I live in {{ supporter.town }}, and I am writing about planning application 26/0412/FUL, "
    "which would close the riverside path between the Eastfield estate and Wendmouth Primary "
    "School for eighteen months while the flood wall is rebuilt.\n\n"
    "The path is the only route to the school that does not cross the ring road. Without it, "
    "children from the estate would walk along a road with no pavement for four hundred metres, "
    "or be driven, adding to the traffic at the school gate that the council has been trying "
    "to reduce for years.\n\n"
    "The flood wall needs rebuilding; nobody disputes that. But the application's own method "
    "statement shows the work proceeding in sections. I ask you to make it a condition of "
    "approval that a width of at least two metres stays open at all times during school terms, "
    "with a signed diversion where a section is closed.\n\n"
    "{personal}\n\n"
    "Thank you for reading this letter. I would be grateful to know how you intend to vote.\n\n"
    "Yours sincerely,\n{{ supporter.name }}"
)
PERSONAL = (
    "I walk my daughter to school along the path every morning, and my neighbour's son, who uses "
    "a wheelchair, relies on it to reach the bus stop on Mill Lane. Letter number {n}."
)


class BenchTimeout(Exception):
    """The run went past --timeout."""


class BenchError(Exception):
    """Something the benchmark relies on did not happen; the message says what."""


@dataclass
class Deadline:
    end: float

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchTimeout("the benchmark ran past --timeout")
        return left


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise BenchTimeout("the benchmark ran past --timeout (hard limit)")


# --- Processes and their CPU time ---------------------------------------------------------


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a running process, from /proc; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_CHILDREN: list[subprocess.Popen[bytes]] = []


def _kill_children() -> None:
    for child in _CHILDREN:
        if child.poll() is None:
            child.kill()
            with suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
    _CHILDREN.clear()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class CpuSeries:
    """CPU seconds used so far, sampled over time, to split a phase at a moment."""

    samples: list[tuple[float, float]] = field(default_factory=list)  # (time.monotonic(), CPU seconds)

    def add(self, cpu: float) -> None:
        self.samples.append((time.monotonic(), cpu))

    def at(self, moment: float) -> float:
        """CPU used by the first sample taken at or after ``moment`` (the last one if none)."""
        return next((cpu for when, cpu in self.samples if when >= moment), self.samples[-1][1] if self.samples else 0)


class PgBackendCpu:
    """CPU time of the PostgreSQL backends serving one database, sampled every 50 ms.

    Backends that existed at ``start()`` count from their CPU then; new ones from zero (a
    forked backend starts at zero). What a backend does in the last <50 ms before it exits
    is missed.
    """

    def __init__(self, admin_url: str, dbname: str) -> None:
        self.admin_url = admin_url
        self.dbname = dbname
        self.start_cpu: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pg-cpu", daemon=True)
        self._conn: Any = None
        self.series = CpuSeries()

    def _pids(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.dbname]
        ).fetchall()
        return [int(row[0]) for row in rows]

    def _sample(self, *, initial: bool = False) -> None:
        for pid in self._pids():
            cpu = process_cpu(pid)
            if cpu is None:
                continue
            self.start_cpu.setdefault(pid, cpu if initial else 0.0)
            self.latest[pid] = cpu
        self.series.add(self.total())

    def total(self) -> float:
        return sum(self.latest[pid] - self.start_cpu[pid] for pid in self.latest)

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def start(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self.admin_url, autocommit=True)
        self._sample(initial=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=10)
        with suppress(Exception):
            self._sample()
        self._conn.close()
        return self.total()


# --- What a phase measured ----------------------------------------------------------------


@dataclass
class Phase:
    label: str
    messages: int  # deliveries (distinct messages)
    accepted: int  # messages the sink accepted: more than ``messages`` if some went twice
    started: float  # time.monotonic()
    first: float  # first message accepted by the sink
    last: float  # last message accepted
    finished: float  # the workers exited / send_messages returned
    sender_cpu: float  # seconds, until the last message was accepted (worker start-up taken off)
    db_cpu: float | None  # PostgreSQL backends, seconds, until the last message was accepted
    sink_cpu: float
    bytes: int
    after_cpu: float = 0.0  # workers and DB after the last message, until the workers exited
    tasks: int = 0  # tasks the workers ran
    notes: list[str] = field(default_factory=list)
    problem: bool = False
    workers: int = 0  # engine phases: how many workers
    round: int = 1  # --rounds: the round this phase ran in

    @property
    def steady_rate(self) -> float:
        return (self.messages - 1) / (self.last - self.first) if self.last > self.first else 0.0

    @property
    def overall_rate(self) -> float:
        return self.messages / (self.last - self.started) if self.last > self.started else 0.0

    @property
    def cpu_per_message_ms(self) -> float:
        return 1000 * (self.sender_cpu + (self.db_cpu or 0.0)) / self.messages


@dataclass
class Startup:
    wall: float
    cpu: float


@dataclass
class Bucket:
    seconds: float = 0.0
    cpu: float = 0.0  # this thread's CPU time
    queries: int = 0
    db_seconds: float = 0.0


@dataclass
class Breakdown:
    """Where the time of ``send_queued(limit=100)`` goes, summed over the measured batches."""

    messages: int = 0
    batches: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    captured_queries: int = 0  # CaptureQueriesContext's count
    buckets: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    kinds: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))


@dataclass
class TaskCost:
    tasks: int
    wall: float
    queries: int
    db_seconds: float


@dataclass
class Report:
    db: str
    messages: int
    recipients: int
    tasks_mode: str
    synchronous_commit_off: bool
    load_before: float
    startup: Startup
    references: list[Phase]
    engines: list[Phase]
    breakdown: Breakdown
    task_cost: TaskCost


# --- The run ------------------------------------------------------------------------------


@dataclass
class MessageSpec:
    """One reference message, prepared before the clock starts."""

    envelope: str
    from_header: str
    to: str
    reply_to: str
    subject: str
    body: str
    html: str
    message_id: str


class Bench:
    def __init__(self, *, args: argparse.Namespace, deadline: Deadline, sink: SmtpSink, env: dict[str, str],
                 work_dir: Path, pg: PostgresDatabase | None) -> None:  # fmt: skip
        self.args = args
        self.deadline = deadline
        self.sink = sink
        self.env = env
        self.work_dir = work_dir
        self.pg = pg
        self.delivery_ids: list[int] = []

    @staticmethod
    def progress(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    # Setup -------------------------------------------------------------------------------

    def seed(self) -> None:
        """One organisation, a campaign with its template, recipients, supporters and letters."""
        from django.db import transaction
        from django.utils import timezone

        from undersigned.campaigns.enums import CampaignStatus
        from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate, Recipient
        from undersigned.letters.models import Letter
        from undersigned.organisations.models import Organisation
        from undersigned.supporters.models import Supporter

        count, recipients_count = self.args.messages, self.args.recipients
        now = timezone.now()
        with transaction.atomic():
            organisation = Organisation.objects.create(slug="friends-of-the-wend", name="Friends of the Wend")
            campaign = Campaign.objects.create(
                organisation=organisation,
                slug="keep-the-riverside-path-open",
                title="Keep the riverside path open",
                status=CampaignStatus.LIVE,
            )
            subject = "Please keep the riverside path open during the works"
            LetterTemplate.objects.create(
                campaign=campaign, subject=subject, body=LETTER_BODY.replace("{personal}", "")
            )
            recipients = Recipient.objects.bulk_create(
                Recipient(
                    organisation=organisation,
                    name=f"Councillor Rowan Ashby-{n}",
                    role="Member of the Planning Committee",
                    organisation_name="Wendmouth Borough Council",
                    email=f"councillor-{n}@council.example",
                )
                for n in range(recipients_count)
            )
            CampaignRecipient.objects.bulk_create(
                CampaignRecipient(campaign=campaign, recipient=r, position=n) for n, r in enumerate(recipients)
            )
            supporters = Supporter.objects.bulk_create(
                (
                    Supporter(email=f"supporter-{n}@example.net", name=f"Ana Ruiz {n}", town="Wendmouth", country="GB")
                    for n in range(count)
                ),
                batch_size=500,
            )
            Letter.objects.bulk_create(
                (
                    Letter(
                        campaign=campaign,
                        supporter=s,
                        sender_name=s.name,
                        sender_town=s.town,
                        sender_country=s.country,
                        subject=subject,
                        body=LETTER_BODY.replace("{personal}", PERSONAL.format(n=n)),
                        uniqueness=40,
                        sent_at=now,
                    )
                    for n, s in enumerate(supporters)
                ),
                batch_size=500,
            )
            Campaign.objects.filter(pk=campaign.pk).update(letters_sent=count)

    def create_deliveries(self) -> None:
        from django.db import transaction

        from undersigned.campaigns.enums import Channel
        from undersigned.campaigns.models import Recipient
        from undersigned.delivery.models import Delivery, DeliveryStatus
        from undersigned.letters.models import Letter

        recipients = list(Recipient.objects.order_by("pk"))
        letters = list(Letter.objects.order_by("pk").values_list("pk", flat=True))
        with transaction.atomic():
            deliveries = Delivery.objects.bulk_create(
                (
                    Delivery(
                        letter_id=letter_id,
                        recipient=recipients[n % len(recipients)],
                        channel=Channel.EMAIL,
                        status=DeliveryStatus.QUEUED,
                    )
                    for n, letter_id in enumerate(letters)
                ),
                batch_size=500,
            )
        self.delivery_ids = [d.pk for d in deliveries]

    def requeue(self, ids: Sequence[int], *, tasks: bool) -> None:
        """Put deliveries back in the queue as if just recorded; old task rows go."""
        from django.db import connection, transaction
        from django_tasks_db.models import DBTaskResult

        from undersigned.delivery.models import Delivery, DeliveryStatus, Evidence
        from undersigned.delivery.sending import wake_senders
        from undersigned.delivery.tasks import send_queued

        with transaction.atomic():
            for start in range(0, len(ids), 500):
                Delivery.objects.filter(pk__in=ids[start : start + 500]).update(
                    status=DeliveryStatus.QUEUED,
                    evidence=Evidence.NONE,
                    attempts=0,
                    last_error="",
                    message_id="",
                    smtp_response="",
                    next_attempt_at=None,
                    sending_started_at=None,
                    sent_at=None,
                )
            DBTaskResult.objects.all().delete()
            if tasks and self.args.tasks == "per-delivery":
                for _ in ids:  # what record_delivery does after each delivery it queues
                    transaction.on_commit(wake_senders)
            elif tasks:
                send_queued.enqueue()
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for model in (Delivery, DBTaskResult):
                    cursor.execute(f"VACUUM ANALYZE {quote(model._meta.db_table)}")
            else:
                cursor.execute("ANALYZE")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()  # hold nothing open while the workers run

    # Phases ------------------------------------------------------------------------------

    def _spawn_worker(self, log: IO[bytes], *, batch: bool = True) -> subprocess.Popen[bytes]:
        args = ["--batch"] if batch else ["--interval", str(self.args.worker_interval)]
        process = subprocess.Popen(
            undersigned_command("worker", *args), env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        _CHILDREN.append(process)
        return process

    def _wait_workers(self, processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
        for process, log in zip(processes, logs, strict=True):
            try:
                code = process.wait(timeout=self.deadline.remaining())
            except subprocess.TimeoutExpired:
                raise BenchTimeout("a worker did not finish before --timeout") from None
            if code != 0:
                raise BenchError(f"worker exited with {code}; the end of its log:\n{_tail(log)}")

    def worker_startup(self) -> Startup:
        """A worker on an empty queue: import, Django set-up, housekeeping, one poll, exit."""
        cpu_before = children_cpu()
        log_path = self.work_dir / "worker-empty.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            process = self._spawn_worker(log)
            self._wait_workers([process], [log_path])
        return Startup(wall=time.monotonic() - started, cpu=children_cpu() - cpu_before)

    def engine(self, workers: int, startup: Startup) -> Phase:
        from django_tasks_db.models import DBTaskResult

        from undersigned.delivery.models import Delivery, DeliveryStatus

        expected = len(self.delivery_ids)
        self.requeue(self.delivery_ids, tasks=True)
        self.sink.reset()
        sink_cpu = process_cpu(self.sink.pid) or 0.0
        sampler = self._pg_sampler()
        cpu_before = children_cpu()
        logs = [self.work_dir / f"worker-{workers}-{n}.log" for n in range(workers)]
        handles = [path.open("wb") for path in logs]
        series = CpuSeries()
        try:
            started = time.monotonic()
            processes = [self._spawn_worker(handle, batch=False) for handle in handles]
            known = [0.0] * workers
            while True:
                self.deadline.remaining()
                for n, process in enumerate(processes):  # read before poll() reaps the process
                    known[n] = process_cpu(process.pid) or known[n]
                series.add(sum(known))
                if any(process.poll() is not None for process in processes):
                    break  # a worker died: _wait_workers reports it
                if self.sink.stats().count >= expected and self._queue_drained():
                    for process in processes:
                        process.terminate()  # a graceful stop: db_worker finishes its task first
                    break
                time.sleep(0.02)
            self._wait_workers(processes, logs)
            finished = time.monotonic()
        finally:
            for handle in handles:
                handle.close()
        worker_cpu = children_cpu() - cpu_before
        db_total = sampler.stop() if sampler else None
        stats = self.sink.stats()
        db_cpu = sampler.series.at(stats.last) if sampler else None
        sending_cpu = series.at(stats.last)
        phase = Phase(
            label=f"engine, {workers} worker{'s' if workers > 1 else ''}",
            messages=expected,
            accepted=stats.count,
            started=started,
            first=stats.first,
            last=stats.last,
            finished=finished,
            sender_cpu=max(sending_cpu - workers * startup.cpu, 0.0),
            db_cpu=db_cpu,
            sink_cpu=(process_cpu(self.sink.pid) or 0.0) - sink_cpu,
            bytes=stats.bytes,
            after_cpu=max(worker_cpu - sending_cpu, 0.0) + ((db_total or 0.0) - (db_cpu or 0.0)),
            tasks=DBTaskResult.objects.exclude(finished_at=None).count(),
            workers=workers,
        )
        sent = Delivery.objects.filter(pk__in=self.delivery_ids, status=DeliveryStatus.SENT).count()
        if sent != expected:
            phase.problem = True
            phase.notes.append(f"LOST: only {sent} of {expected} deliveries are sent; see {logs[0].name}")
        elif stats.count > expected:
            # Each delivery is marked sent only after the server accepted it, so every
            # message beyond one per delivery went out a second time.
            phase.problem = True
            claimed_twice = Delivery.objects.filter(pk__in=self.delivery_ids, attempts__gt=1).count()
            phase.notes.append(
                f"SENT TWICE: {stats.count - expected} of {expected} deliveries reached the sink more than once "
                f"({stats.count} messages accepted); {claimed_twice} deliveries were claimed more than once "
                "(attempts > 1)"
            )
        else:
            phase.notes.append(f"all {expected} deliveries sent, the sink accepted each once")
        return phase

    def _queue_drained(self) -> bool:
        """Every delivery sent and no task waiting or running: a worker left alone would only poll."""
        from django.db import connection
        from django_tasks_db.models import DBTaskResult

        from undersigned.delivery.models import Delivery, DeliveryStatus

        try:
            unsent = Delivery.objects.filter(pk__in=self.delivery_ids).exclude(status=DeliveryStatus.SENT).exists()
            busy = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
        finally:
            connection.close()  # hold nothing open while the workers run
        return not unsent and not busy

    def _pg_sampler(self) -> PgBackendCpu | None:
        if self.pg is None:
            return None
        sampler = PgBackendCpu(admin_conninfo(self.pg.url), self.pg.name)
        sampler.start()
        return sampler

    def reference_specs(self) -> list[MessageSpec]:
        """The engine's messages, prepared as plain data (not timed)."""
        from email.headerregistry import Address

        from django.utils.html import escape, linebreaks

        from undersigned.delivery.addresses import bounce_address
        from undersigned.delivery.models import Delivery
        from undersigned.letters.queries import text_for

        specs = []
        deliveries = Delivery.objects.select_related("letter__campaign__organisation", "letter__supporter", "recipient")
        for d in deliveries.filter(pk__in=self.delivery_ids).order_by("pk"):
            letter, recipient = d.sent_letter, d.sent_recipient
            text = text_for(letter, recipient)
            organisation = letter.campaign.organisation.display_short_name
            specs.append(
                MessageSpec(
                    envelope=bounce_address(d.pk),
                    from_header=str(
                        Address(
                            display_name=f"{letter.sender_name} via {organisation}", addr_spec=f"letters@{MAIL_DOMAIN}"
                        )
                    ),
                    to=str(Address(display_name=recipient.name, addr_spec=recipient.email)),
                    reply_to=str(Address(display_name=letter.sender_name, addr_spec=letter.supporter.email)),
                    subject=text.subject,
                    body=text.body,
                    html=f'<!doctype html><html><body><div dir="auto">{linebreaks(escape(text.body))}</div></body>'
                    "</html>",
                    message_id=f"<reference-{d.pk}@{MAIL_DOMAIN}>",
                )
            )
        return specs

    def reference(self, specs: list[MessageSpec], label: str) -> Phase:
        """Plain Django: build the messages, hand them all to send_messages over one connection."""
        from django.core.mail import EmailMultiAlternatives, mailers

        self.sink.reset()
        sink_cpu = process_cpu(self.sink.pid) or 0.0
        started = time.monotonic()
        cpu_before = time.thread_time()
        messages = []
        for spec in specs:
            message = EmailMultiAlternatives(
                subject=spec.subject,
                body=spec.body,
                from_email=spec.envelope,
                to=[spec.to],
                reply_to=[spec.reply_to],
                headers={"From": spec.from_header, "Message-ID": spec.message_id},
            )
            message.attach_alternative(spec.html, "text/html")
            messages.append(message)
        sent = mailers.default.send_messages(messages)
        finished = time.monotonic()
        cpu = time.thread_time() - cpu_before
        while self.sink.stats().count < len(specs):
            self.deadline.remaining()
            time.sleep(0.01)
        stats = self.sink.stats()
        if sent != len(specs) or stats.count != len(specs):
            raise BenchError(f"{label}: send_messages reported {sent}, the sink accepted {stats.count}")
        return Phase(
            label=label,
            messages=len(specs),
            accepted=stats.count,
            started=started,
            first=stats.first,
            last=stats.last,
            finished=finished,
            sender_cpu=cpu,
            db_cpu=None,
            sink_cpu=(process_cpu(self.sink.pid) or 0.0) - sink_cpu,
            bytes=stats.bytes,
        )

    # Where the time goes -----------------------------------------------------------------

    def breakdown(self, batches: int = 4) -> Breakdown:
        """``send_queued(limit=100)`` in this process, timed step by step; the first batch warms up."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from undersigned.delivery import sending

        ids = self.delivery_ids
        if len(ids) < batches * BATCH:
            raise BenchError(f"the breakdown needs {batches * BATCH} deliveries; use --messages {batches * BATCH}")
        result = Breakdown()
        for number in range(batches):
            self.deadline.remaining()
            self.requeue(ids[number * BATCH : (number + 1) * BATCH], tasks=False)
            steps = StepTimer()
            with (
                patched(steps.targets(), steps.timed),
                connection.execute_wrapper(steps.on_query),
                CaptureQueriesContext(connection) as ctx,
            ):
                started, cpu_before = time.perf_counter(), time.thread_time()
                sent = sending.send_queued(limit=BATCH)
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_before
            if sent != BATCH:
                raise BenchError(f"send_queued(limit={BATCH}) sent {sent}")
            if number > 0:  # the first batch warms up: first connection, first queries, imports
                steps.add_to(result, messages=sent, wall=wall, cpu=cpu, captured=ctx.captured_queries)
        return result

    def task_cost(self, tasks: int = 50) -> TaskCost:
        """The worker loop's own cost per task: tasks that find nothing due, run in this process."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django_tasks_db.management.commands.db_worker import Worker
        from django_tasks_db.models import DBTaskResult

        from undersigned.delivery.tasks import send_queued

        DBTaskResult.objects.all().delete()
        for _ in range(tasks):
            send_queued.enqueue()  # every delivery is sent: nothing is due
        worker = Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=tasks + 1,
            worker_id="email-bench",
            excluded_queue_names=[],
        )
        db_seconds = 0.0

        def on_query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal db_seconds
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                db_seconds += time.perf_counter() - start

        with quiet_task_logs(), connection.execute_wrapper(on_query), CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            worker.run()
            wall = time.perf_counter() - started
        done = DBTaskResult.objects.exclude(finished_at=None).count()
        if done != tasks:
            raise BenchError(f"the in-process worker finished {done} of {tasks} tasks")
        return TaskCost(tasks=tasks, wall=wall, queries=len(ctx.captured_queries), db_seconds=db_seconds)

    def profiles(self) -> None:
        """cProfile of one batch of send_queued and of 50 no-op tasks in the worker loop, printed."""
        from django_tasks_db.management.commands.db_worker import Worker

        from undersigned.delivery import sending
        from undersigned.delivery.tasks import send_queued

        self.requeue(self.delivery_ids[:BATCH], tasks=False)
        profile(f"send_queued(limit={BATCH})", lambda: sending.send_queued(limit=BATCH))
        for _ in range(50):
            send_queued.enqueue()
        worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                        max_tasks=51, worker_id="email-bench-profile", excluded_queue_names=[])  # fmt: skip
        profile("the worker loop, 50 tasks with nothing due", worker.run)

    # All of it ---------------------------------------------------------------------------

    def run(self) -> Report:
        load_before = os.getloadavg()[0]
        self.progress("seeding the campaign and letters")
        self.seed()
        self.progress("worker start-up on an empty queue")
        startup = self.worker_startup()
        self.create_deliveries()
        specs = self.reference_specs()
        references = [self.reference(specs, "reference send_messages, before")]
        self.progress(f"reference: {references[0].steady_rate:.0f} msgs/s")
        engines = []
        rounds = self.args.rounds
        for round_ in range(1, rounds + 1):
            for workers in self.args.workers:
                self.progress(f"engine with {workers} worker(s)" + (f", round {round_}" if rounds > 1 else ""))
                engines.append(self.engine(workers, startup))
                engines[-1].round = round_
                if rounds > 1:
                    engines[-1].label += f", round {round_}"
                self.progress(f"engine: {engines[-1].steady_rate:.0f} msgs/s")
            label = "reference send_messages, after" + (f" round {round_}" if rounds > 1 else "")
            references.append(self.reference(specs, label))
            references[-1].round = round_
        self.progress("the worker's cost per task")
        task_cost = self.task_cost()
        self.progress("send_queued(limit=100) in this process, step by step")
        breakdown = self.breakdown()
        if self.args.profile:
            self.profiles()
        return Report(
            db=self.args.db,
            messages=len(self.delivery_ids),
            recipients=self.args.recipients,
            tasks_mode=self.args.tasks,
            synchronous_commit_off=self.args.pg_synchronous_commit == "off",
            load_before=load_before,
            startup=startup,
            references=references,
            engines=engines,
            breakdown=breakdown,
            task_cost=task_cost,
        )


class StepTimer:
    """Wall and CPU time of the engine's steps, and the queries each step runs.

    The steps are the engine's own functions (and Django's, for the SMTP part), wrapped in
    this process for the duration of one batch; a query counts towards the innermost step
    running when it is executed.
    """

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.buckets: dict[str, Bucket] = defaultdict(Bucket)
        self.kinds: dict[str, Bucket] = defaultdict(Bucket)

    @staticmethod
    def targets() -> list[tuple[Any, str, str]]:
        import smtplib

        from django.core.mail.backends.smtp import EmailBackend

        from undersigned.delivery import sending
        from undersigned.delivery.channels.email import LetterEmail

        return [
            (sending, "_claim_batch", "claim the batch (UPDATE … RETURNING)"),
            (sending, "_paced_until", "pace check"),
            (sending, "_message", "build message (personalise, headers)"),
            (LetterEmail, "prepare", "MIME form + DKIM, built ahead (LetterEmail.prepare)"),
            (EmailBackend, "send_messages", "send_messages"),
            (smtplib.SMTP, "sendmail", "SMTP dialogue (sendmail)"),
            (sending, "_mark_sent", "mark sent + audit row (one statement on PG)"),
            (sending, "_schedule", "wake another sender"),
        ]

    def timed(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(label)
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.buckets[label].seconds += time.perf_counter() - start
                self.buckets[label].cpu += time.thread_time() - cpu
                self.stack.pop()

        return wrapper

    def on_query(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            bucket = self.buckets[self.stack[-1] if self.stack else "find due deliveries"]
            bucket.queries += 1
            bucket.db_seconds += elapsed
            self.kinds[query_kind(sql)].db_seconds += elapsed

    def add_to(
        self, result: Breakdown, *, messages: int, wall: float, cpu: float, captured: list[dict[str, Any]]
    ) -> None:
        result.batches += 1
        result.messages += messages
        result.wall += wall
        result.cpu += cpu
        result.captured_queries += len(captured)
        for query in captured:  # COMMIT too, which no execute wrapper sees
            self.kinds[query_kind(query["sql"])].queries += 1
        for source, target in ((self.buckets, result.buckets), (self.kinds, result.kinds)):
            for name, bucket in source.items():
                target[name].seconds += bucket.seconds
                target[name].cpu += bucket.cpu
                target[name].queries += bucket.queries
                target[name].db_seconds += bucket.db_seconds


@contextmanager
def quiet_task_logs() -> Iterator[None]:
    """The task worker logs two INFO lines per task; the bench's own output stays readable."""
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def profile(what: str, call: Callable[[], object], *, lines: int = 30) -> None:
    """Run ``call`` under cProfile and print the functions that take the most time (--profile)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    with quiet_task_logs():
        profiler.runcall(call)
    print(f"\n--- profile: {what} (cumulative time) ---")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(lines)


@contextmanager
def patched(
    targets: list[tuple[Any, str, str]], wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]]
) -> Iterator[None]:
    """Wrap attributes for the duration (the bench process only; product code is untouched)."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    try:
        for (owner, name, label), (_, _, original) in zip(targets, originals, strict=True):
            setattr(owner, name, wrap(label, original))
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def query_kind(sql: str) -> str:
    words = sql.replace('"', "").split()
    verb = words[0].upper() if words else "?"
    table = ""
    for keyword in ("FROM", "INTO", "UPDATE"):
        upper = [w.upper() for w in words]
        if keyword in upper and upper.index(keyword) + 1 < len(words):
            table = words[upper.index(keyword) + 1]
            break
    joins = sql.upper().count(" JOIN ")
    return f"{verb} {table}{f' + {joins} joins' if joins else ''}".strip()


# --- Printing -----------------------------------------------------------------------------

_STEPS = [
    "claim the batch (UPDATE … RETURNING)",
    "pace check",
    "build message (personalise, headers)",
    "MIME form + DKIM, built ahead (LetterEmail.prepare)",
    "send_messages",
    "SMTP dialogue (sendmail)",
    "mark sent + audit row (one statement on PG)",
    "wait for the mark's answer (PG)",
    "wake another sender",
]


def breakdown_rows(b: Breakdown) -> list[tuple[str, float, float, int, float]]:
    """(step, wall s, CPU s, queries, DB s), summed over the batches; serialising is send_messages less SMTP."""
    get = b.buckets.get
    smtp = get("SMTP dialogue (sendmail)", Bucket())
    rows: list[tuple[str, float, float, int, float]] = []
    for name in _STEPS:
        bucket = get(name, Bucket())
        if name == "send_messages":
            rows.append(("serialise (as_bytes(); message() too if not built ahead)", bucket.seconds - smtp.seconds,
                         bucket.cpu - smtp.cpu,
                         bucket.queries, bucket.db_seconds))  # fmt: skip
        else:
            rows.append((name, bucket.seconds, bucket.cpu, bucket.queries, bucket.db_seconds))
    outer = [get(name, Bucket()) for name in _STEPS if name != "SMTP dialogue (sendmail)"]
    rest = get("find due deliveries", Bucket())
    rows.insert(0, ("find due deliveries, the loop, the rest", b.wall - sum(x.seconds for x in outer),
                    b.cpu - sum(x.cpu for x in outer), rest.queries, rest.db_seconds))  # fmt: skip
    rows.append(("total (queries with COMMIT)", b.wall, b.cpu, sum(k.queries for k in b.kinds.values()),
                 sum(k.db_seconds for k in b.kinds.values())))  # fmt: skip
    return rows


def print_report(report: Report) -> None:
    db = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[report.db]
    tasks = (
        "a wake-up after each delivery, as record_delivery does"
        if report.tasks_mode == "per-delivery"
        else "one send_queued task"
    )
    print()
    if report.db == "postgres" and report.synchronous_commit_off:
        db += " with synchronous_commit = off"
    print(f"Email engine on {db}: {report.messages:,} messages to {report.recipients} recipients ({tasks})")
    print(f"machine: {os.cpu_count()} cores, load average {report.load_before:.1f} before the run")
    print()
    print(
        f"{'phase':<34}{'msgs/s':>8}{'msgs/s':>9}{'start→1st':>11}{'CPU ms/msg':>12}{'of which':>10}"
        f"{'msgs per':>10}{'sink CPU':>10}{'bytes':>7}"
    )
    print(
        f"{'':<34}{'steady':>8}{'overall':>9}{'s':>11}{'sender+DB':>12}{'DB':>10}{'CPU-s':>10}{'ms/msg':>10}{'/msg':>7}"
    )
    in_order = [report.references[0]]
    for round_ in sorted({p.round for p in report.engines}):
        in_order += [p for p in report.engines if p.round == round_]
        in_order += [p for p in report.references[1:] if p.round == round_]
    for phase in in_order:
        db_cpu = f"{1000 * phase.db_cpu / phase.messages:.2f}" if phase.db_cpu is not None else "-"
        print(
            f"{phase.label:<34}{phase.steady_rate:>8.0f}{phase.overall_rate:>9.0f}{phase.first - phase.started:>11.2f}"
            f"{phase.cpu_per_message_ms:>12.2f}{db_cpu:>10}{1000 / phase.cpu_per_message_ms:>10.0f}"
            f"{1000 * phase.sink_cpu / phase.accepted:>10.2f}{phase.bytes / phase.accepted:>7.0f}"
        )
    print()
    for phase in report.engines:
        for note in phase.notes:
            print(f"{phase.label}: {note}")
        print(
            f"{phase.label}: after the last message the workers ran {phase.finished - phase.last:.1f} s more "
            f"({phase.tasks} tasks run in all; {phase.after_cpu:.1f} CPU s after the last message)"
        )
    print()
    # Each engine phase against the references run just before and just after it: on a
    # machine whose speed drifts, neighbours compare like with like.
    ratios: dict[int, list[float]] = defaultdict(list)
    for phase in report.engines:
        neighbours = report.references[phase.round - 1 : phase.round + 1]
        reference_rate = statistics.mean(p.steady_rate for p in neighbours)
        reference_cpu = statistics.mean(p.cpu_per_message_ms for p in neighbours)
        ratio = phase.steady_rate / reference_rate
        ratios[phase.workers].append(ratio)
        verdict = "meets" if ratio >= 0.8 else "misses"
        print(
            f"{phase.label}: {ratio:.0%} of the reference's msgs/s ({reference_rate:.0f}, the mean of the runs "
            f"before and after it; {verdict} the 80 % aim); per CPU-second "
            f"{reference_cpu / phase.cpu_per_message_ms:.0%} of the reference's messages"
        )
    for workers, values in ratios.items():
        if len(values) > 1:
            print(
                f"engine, {workers} worker{'s' if workers > 1 else ''}: median {statistics.median(values):.0%} of the "
                f"reference over {len(values)} rounds (from {min(values):.0%} to {max(values):.0%})"
            )
    print(f"worker start-up on an empty queue: {report.startup.wall:.2f} s wall, {report.startup.cpu:.2f} s CPU")

    b = report.breakdown
    per = 1000 / b.messages
    print()
    print(
        f"send_queued(limit={BATCH}) in this process, {b.batches} batches after a warm-up: "
        f"{b.captured_queries / b.messages:.2f} queries per message (CaptureQueriesContext), "
        f"{b.wall * per:.2f} ms wall and {b.cpu * per:.2f} ms CPU per message "
        f"({b.messages / b.wall:.0f} msgs/s)"
    )
    print(f"{'step':<50}{'wall ms':>9}{'CPU ms':>8}{'queries':>9}{'in DB ms':>10}   (per message)")
    for label, wall, cpu, queries, db_seconds in breakdown_rows(b):
        print(f"{label:<50}{wall * per:>9.3f}{cpu * per:>8.3f}{queries / b.messages:>9.2f}{db_seconds * per:>10.3f}")
    print()
    print(f"{'queries by kind':<60}{'per msg':>9}{'DB ms/msg':>11}")
    for name, bucket in sorted(b.kinds.items(), key=lambda item: -item[1].queries):
        # The mark-sent statement on PostgreSQL runs on psycopg's cursor (to be prepared at
        # its first use), past Django's execute wrappers: its time is the step "mark sent".
        db = f"{bucket.db_seconds * per:.3f}" if bucket.db_seconds or not name.startswith("WITH") else "(in step)"
        print(f"{name[:59]:<60}{bucket.queries / b.messages:>9.2f}{db:>11}")
    t = report.task_cost
    print()
    print(
        f"worker loop per task (tasks that find nothing due, in this process): {1000 * t.wall / t.tasks:.2f} ms, "
        f"{t.queries / t.tasks:.1f} queries, {1000 * t.db_seconds / t.tasks:.2f} ms in the DB"
    )


# --- Setting up and tearing down ---------------------------------------------------------


def product_env(*, database_url: str, var_dir: Path, smtp_url: str) -> dict[str, str]:
    env = django_env(
        dict(os.environ),
        database_url=database_url,
        var_dir=var_dir,
        base_url=f"http://{LOOPBACK}:8000",
        secret_key=secrets.token_urlsafe(48),
    )
    env.update(
        UNDERSIGNED_SMTP_URL=smtp_url,
        UNDERSIGNED_MAIL_DOMAIN=MAIL_DOMAIN,
        UNDERSIGNED_CACHE_URL="locmem://",  # nothing here uses the cache; no table to create
    )
    # DKIM signing, when the run measures it (the module docstring).
    env.update({k: v for k, v in os.environ.items() if k.startswith("UNDERSIGNED_DKIM_")})
    return env


def admin_conninfo(url: str) -> str:
    """The server's maintenance database, for statements about our database."""
    return urlsplit(url)._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)


def set_synchronous_commit_off(pg: PostgresDatabase) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo(pg.url), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(pg.name)))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--recipients", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=lambda raw: [int(n) for n in raw.split(",")],
        default=None,
        help="worker counts to run, e.g. 1,2 (default: 1 on SQLite, 1,2 on PostgreSQL)",
    )
    parser.add_argument(
        "--tasks",
        choices=["per-delivery", "one"],
        default="per-delivery",
        help="per-delivery: call wake_senders() after each queued delivery, as record_delivery does; "
        "one: enqueue a single send_queued task",
    )
    parser.add_argument(
        "--worker-interval", type=float, default=1.0, help="the workers' --interval (idle polling), seconds"
    )
    parser.add_argument("--pg-server", default=f"postgres://postgres@{LOOPBACK}:5432", help="loopback only")
    parser.add_argument(
        "--pg-name",
        default=None,
        help="name of the throw-away database (must contain 'bench'; created, then dropped); "
        "default undersigned_email_bench_<pid>. Give each person or job sharing a server its own.",
    )
    parser.add_argument(
        "--pg-synchronous-commit",
        choices=["server", "off"],
        default="server",
        help="off: the bench database skips waiting for the WAL flush at each commit, to show what that wait costs",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the engine phases this many times, each round followed by a reference run; each engine run is "
        "compared with the references just before and after it, and the median is reported",
    )
    parser.add_argument("--profile", action="store_true", help="also print cProfile output of the engine's steps")
    parser.add_argument("--timeout", type=int, default=900, help="hard limit for the whole run, seconds")
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = [1, 2] if args.db == "postgres" else [1]
    if args.messages < 4 * BATCH or args.recipients < 1 or args.rounds < 1:
        parser.error(f"--messages must be at least {4 * BATCH}, --recipients and --rounds at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    deadline = Deadline(time.monotonic() + args.timeout)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(args.timeout + 30)  # the backstop if a call blocks past the deadline
    pg: PostgresDatabase | None = None
    sink = SmtpSink(lifetime=args.timeout + 60)
    try:
        with tempfile.TemporaryDirectory(prefix="undersigned-email-bench-") as tmp:
            work_dir = Path(tmp)
            sink.start()
            if args.db == "postgres":
                name = args.pg_name or f"undersigned_email_bench_{os.getpid()}"
                pg = PostgresDatabase(f"{args.pg_server.rstrip('/')}/{name}")
                pg.create()
                if args.pg_synchronous_commit == "off":
                    set_synchronous_commit_off(pg)
                database_url = pg.url
            else:
                database_url = f"sqlite:///{work_dir / 'bench.sqlite3'}"
            env = product_env(database_url=database_url, var_dir=work_dir / "var", smtp_url=sink.url)
            print("  migrating a fresh database", file=sys.stderr, flush=True)
            subprocess.run(
                undersigned_command("migrate", "--noinput"),
                env=env,
                check=True,
                capture_output=True,
                timeout=deadline.remaining(),
            )
            os.environ.update(env)
            os.environ["DJANGO_SETTINGS_MODULE"] = "undersigned.settings"
            import django

            django.setup()
            try:
                report = Bench(args=args, deadline=deadline, sink=sink, env=env, work_dir=work_dir, pg=pg).run()
            finally:
                from django.db import connections

                _kill_children()  # before the temporary directory (their database, their logs) goes
                connections.close_all()
            print_report(report)
            if any(phase.problem for phase in report.engines):
                return 2
    except (BenchError, BenchTimeout, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.decode(errors="replace")[-2000:] if isinstance(exc, subprocess.CalledProcessError) else ""
        print(f"email_engine: {exc}\n{detail}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        _kill_children()
        sink.stop()
        if pg is not None:
            pg.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
