"""PostgreSQL state over TLS: sslmode and sslrootcert in the backend URL are honoured, and the URL's password is
never printed. Against a throwaway cluster this module starts (initdb, pg_ctl) on a free port with a self-signed
certificate it makes; the shared server on 5432 is never touched."""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.absent import missing
from tests.functional.test_encryption import encryption, plan_text, refused

PASSWORD = "tls-test-password-4711"


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (the certificate is its own root)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[tuple[int, Path, Path]]:
    """(port, the server's certificate, another certificate that did not sign it)."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl")) or (os.geteuid() == 0 and not shutil.which("runuser")):
        missing("initdb and pg_ctl (and runuser, as root) are needed to start a throwaway TLS PostgreSQL")
    folder = Path(tempfile.mkdtemp(prefix="labform-tls-"))
    folder.chmod(0o755)
    data = folder / "data"
    cert, key = certificate(folder, "server")
    stranger, _ = certificate(folder, "stranger")
    (folder / "password").write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for path in folder.iterdir():
            shutil.chown(path, "postgres")
    key.chmod(0o600)
    port = free_port()
    subprocess.run(
        as_postgres(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={folder / 'password'}"
        ),
        check=True,
        capture_output=True,
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
            f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\n"
        )
    (data / "pg_hba.conf").write_text(
        "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 127.0.0.1/32 reject\n"
    )
    subprocess.run(
        as_postgres("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "start"),
        check=True,
        capture_output=True,
    )
    try:
        yield port, cert, stranger
    finally:
        subprocess.run(as_postgres("pg_ctl", "-D", str(data), "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def url(port: int, query: str) -> str:
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres?{query}&workspace=tls"


@pytest.fixture(autouse=True)
def passphrases(monkeypatch):
    monkeypatch.setenv("PASS_MAIN", "correct horse battery staple")


def test_verified_tls_connection_carries_the_encrypted_state(bitbar, workdir, tls_server):
    port, cert, _ = tls_server
    workdir.write(plan_text(block=encryption("main")))
    state = url(port, f"sslmode=verify-full&sslrootcert={cert}")
    applied = workdir.apply("--state", state)
    assert applied.exit_code == 0, applied.output
    again = workdir.plan("--state", state, "--detailed-exitcode")
    assert again.exit_code == 0 and PASSWORD not in applied.output + again.output
    listed = workdir.run("state", "list", str(workdir.path), "--state", state)
    assert listed.stdout == "bitbar_project.checkout\n"


def test_a_server_certificate_the_root_did_not_sign_is_refused_with_the_password_masked(bitbar, workdir, tls_server):
    port, _, stranger = tls_server
    workdir.write(plan_text())
    result = workdir.plan("--state", url(port, f"sslmode=verify-full&sslrootcert={stranger}"))
    refused(result, "cannot reach the state database postgresql://127.0.0.1/postgres", "certificate verify failed")
    assert PASSWORD not in result.output


def test_without_tls_the_server_refuses_and_the_password_is_masked(bitbar, workdir, tls_server):
    port, _, _ = tls_server
    workdir.write(plan_text())
    result = workdir.plan("--state", url(port, "sslmode=disable"), "-json")
    refused(result, "cannot reach the state database", "no encryption")
    assert PASSWORD not in result.output
