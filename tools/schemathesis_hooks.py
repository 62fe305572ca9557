"""Schemathesis hooks for tools/openapi_check.sh (loaded through SCHEMATHESIS_HOOKS)."""
import re
import uuid

import schemathesis

_VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Generated Idempotency-Keys repeat across cases with different bodies, which the server rightly
    # answers 422 idempotency_key_reused. Give each valid key a fresh value so that a schema-valid
    # publish is judged on its own; invalid keys are left as they are (they must still be rejected).
    if case.method.upper() == "POST" and case.path == "/v1/events" and case.headers:
        for name in list(case.headers):
            value = case.headers[name]
            if name.lower() == "idempotency-key" and isinstance(value, str) and _VALID_KEY.match(value):
                case.headers[name] = "k-" + uuid.uuid4().hex
