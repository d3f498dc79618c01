"""The conformance suite: code that nobody here wrote, run against this package.

seamless-config must stay a drop-in for the published 0.3.2 that the rest of
the Seamless stack calls. At test time this suite downloads the sdists of
seamless-config 0.3.2, seamless-transformer 0.6.1 and seamless-dask 0.4,
builds a side venv with the published stack (cached under
``.conformance-cache/``), and runs

* 0.3.2's own tests on this package and, as the baseline, on 0.3.2;
* the client test files that touch seamless_config, on both;
* a comparison of every public name and signature 0.3.2 has with ours;
* seamless-transformer's real CLIs on a loopback cluster.

COMPAT.md at the repository root holds the results table
(``python -m interpreter_tests.conformance.report --write``) and the
documented differences that the suite accepts.
"""
