"""Client-side encryption of state, the intent journal and saved plans (OpenTofu's design, in YAML).

    config.py      the ``encryption:`` plan block and LABFORM_ENCRYPTION, checked (pydantic), merged
    keys.py        key providers: pbkdf2 (a passphrase) and command (an external program prints the key)
    aes_gcm.py     the one method, AES-256-GCM from ``cryptography``: never home-made crypto
    envelope.py    a sealed document: cleartext header (method, key provider, key metadata) + ciphertext
    target.py      one target (state or plan): its method, fallback and ``enforced``; seal and open
    records.py     journal records sealed one by one, each chained to the one before by its serial
    highwater.py   the highest serial a backend has seen per lineage: a rolled-back or swapped state refused
    keeper.py      the mark kept through a program, away from the state (high_water.command)
    commands.py    state rekey / encrypt / decrypt

Nothing here runs unless encryption is configured: plain state stays exactly as it was. This
package's __init__ imports nothing, so the state backends can name its light modules (envelope,
errors) at start-up and load ``cryptography`` and the configuration only when configured.
"""
