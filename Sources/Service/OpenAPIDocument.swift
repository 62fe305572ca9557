/// The OpenAPI 3.1 description of the whole API, served at `GET /openapi.json`. This literal is the
/// single source of the document: edit it here (it must stay valid JSON; `tools/openapi_check.sh`
/// validates it and runs schemathesis against a live server).
enum OpenAPIDocument {
    static let text = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Argus Events",
    "version": "0.1.0",
    "description": "Event ingest, the event log, and webhook subscriptions of the Argus identity platform. Every `/v1` route needs an OAuth 2.0 bearer token (client credentials grant at `/oauth/token`); a token sees only its organization's events and webhooks (platform:admin: every organization). Errors are `{\"error\":{\"code\",\"message\"}}`, except the OAuth endpoints' RFC 6749 `{\"error\",\"error_description\"}`. Request bodies are at most 1 MiB (8 MiB for `/v1/events/batch`), request heads 16 KiB (431 beyond). JSON bodies reject unknown members (422 `unknown_field`)."
  },
  "servers": [{"url": "/"}],
  "tags": [{"name": "OAuth"}, {"name": "Events"}, {"name": "Webhooks"}, {"name": "Deliveries"}, {"name": "Operations"}, {"name": "Portal"}, {"name": "Proofs"}],
  "paths": {
    "/oauth/token": {
      "post": {
        "operationId": "issueToken",
        "tags": ["OAuth"],
        "summary": "Get an access token (client credentials grant, RFC 6749 section 4.4)",
        "security": [{"clientBasic": []}, {}],
        "requestBody": {
          "required": true,
          "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}}
        },
        "responses": {
          "200": {
            "description": "An access token.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}},
            "headers": {
              "Cache-Control": {"required": true, "schema": {"type": "string", "const": "no-store"}},
              "Pragma": {"required": true, "schema": {"type": "string", "const": "no-cache"}}
            }
          },
          "400": {
            "description": "`invalid_request` (not a form, a missing or repeated field, or client_id differing from the Basic credentials), `unsupported_grant_type`, or `invalid_scope`.",
            "headers": {
              "Cache-Control": {
                "description": "Always `no-store`.",
                "required": true,
                "schema": {"type": "string", "const": "no-store"}
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [{"$ref": "#/components/schemas/OAuthError"}],
                  "properties": {"error": {"enum": ["invalid_request", "unsupported_grant_type", "invalid_scope"]}}
                }
              }
            }
          },
          "401": {
            "description": "`invalid_client`: no, malformed or wrong client credentials.",
            "headers": {
              "Cache-Control": {
                "description": "Always `no-store`.",
                "required": true,
                "schema": {"type": "string", "const": "no-store"}
              },
              "WWW-Authenticate": {"required": true, "schema": {"type": "string", "const": "Basic realm=\"argus\""}}
            },
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [{"$ref": "#/components/schemas/OAuthError"}],
                  "properties": {"error": {"enum": ["invalid_client"]}}
                }
              }
            }
          },
          "429": {
            "description": "`too_many_tokens` (the client holds 1,000 live tokens) or more than 20 token requests per second for this client; `Retry-After` says when to try again.",
            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
          },
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "503": {
            "description": "`temporarily_unavailable`: too many live tokens.",
            "headers": {
              "Cache-Control": {
                "description": "Always `no-store`.",
                "required": true,
                "schema": {"type": "string", "const": "no-store"}
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [{"$ref": "#/components/schemas/OAuthError"}],
                  "properties": {"error": {"enum": ["temporarily_unavailable"]}}
                }
              }
            }
          }
        }
      }
    },
    "/oauth/revoke": {
      "post": {
        "operationId": "revokeToken",
        "tags": ["OAuth"],
        "summary": "Revoke an access token (RFC 7009)",
        "security": [{"clientBasic": []}, {}],
        "requestBody": {
          "required": true,
          "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/RevokeRequest"}}}
        },
        "responses": {
          "200": {
            "description": "Revoked, or it was not a live token of this client. Empty body.",
            "headers": {"Cache-Control": {"required": true, "schema": {"type": "string", "const": "no-store"}}}
          },
          "400": {
            "description": "`invalid_request` (not a form, a missing `token`, a repeated field) or `unsupported_token_type`.",
            "headers": {
              "Cache-Control": {
                "description": "Always `no-store`.",
                "required": true,
                "schema": {"type": "string", "const": "no-store"}
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [{"$ref": "#/components/schemas/OAuthError"}],
                  "properties": {"error": {"enum": ["invalid_request", "unsupported_token_type"]}}
                }
              }
            }
          },
          "401": {
            "description": "`invalid_client`.",
            "headers": {
              "Cache-Control": {
                "description": "Always `no-store`.",
                "required": true,
                "schema": {"type": "string", "const": "no-store"}
              },
              "WWW-Authenticate": {"required": true, "schema": {"type": "string", "const": "Basic realm=\"argus\""}}
            },
            "content": {
              "application/json": {
                "schema": {
                  "allOf": [{"$ref": "#/components/schemas/OAuthError"}],
                  "properties": {"error": {"enum": ["invalid_client"]}}
                }
              }
            }
          },
          "413": {"$ref": "#/components/responses/ContentTooLarge"}
        }
      }
    },
    "/healthz": {
      "get": {
        "operationId": "health",
        "tags": ["Operations"],
        "summary": "Liveness",
        "security": [],
        "responses": {
          "200": {
            "description": "The service is up.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
          },
          "503": {
            "description": "The log cannot accept writes (for example a full disk); the body says why. Publishing resumes by itself once the cause is gone.",
            "content": {"application/json": {"schema": {"type": "object"}}}
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "tags": ["Operations"],
        "summary": "Prometheus metrics (text exposition format 0.0.4)",
        "description": "Needs a token with scope `metrics:read` (Prometheus' `oauth2` scrape config can fetch one), unless the server runs with `--metrics-public`.",
        "security": [{"oauth2": ["metrics:read"]}, {"bearerAuth": []}],
        "responses": {
          "200": {"description": "Counters and gauges.", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}
        }
      }
    },
    "/v1/clients": {
      "get": {
        "operationId": "listClients",
        "tags": ["OAuth"],
        "summary": "List the organization's OAuth clients (platform:admin: every organization, or `organization_id`)",
        "security": [{"oauth2": ["clients:write"]}, {"bearerAuth": []}],
        "parameters": [
          {"name": "after", "in": "query", "schema": {"type": "string", "minLength": 1, "maxLength": 64}, "description": "The last client id of the previous page."},
          {"$ref": "#/components/parameters/Limit"},
          {"name": "organization_id", "in": "query", "schema": {"type": "string"}, "description": "platform:admin only: one organization's clients."}
        ],
        "responses": {
          "200": {
            "description": "A page of clients (never their secrets).",
            "content": {"application/json": {"schema": {
              "type": "object", "required": ["data", "next_after"],
              "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/OAuthClient"}},
                "next_after": {"type": ["string", "null"]}
              }
            }}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}
        }
      },
      "post": {
        "operationId": "createClient",
        "tags": ["OAuth"],
        "summary": "Create an OAuth client; the secret is shown once",
        "security": [{"oauth2": ["clients:write"]}, {"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {
            "type": "object", "required": ["scopes"], "additionalProperties": false,
            "properties": {
              "scopes": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["events:publish", "events:read", "webhooks:read", "webhooks:write", "clients:write", "metrics:read", "platform:admin"]}},
              "description": {"type": ["string", "null"], "maxLength": 1024, "description": "At most 1,024 UTF-8 bytes."},
              "organization_id": {"type": ["string", "null"], "description": "platform:admin only (null: the token's own)."}
            }
          }}}
        },
        "responses": {
          "201": {
            "description": "The client with `client_secret`, shown only now.",
            "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/OAuthClient"}], "required": ["client_secret"], "properties": {"client_secret": {"type": "string"}}}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "415": {"description": "Not JSON.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"$ref": "#/components/responses/ValidationFailed"}
        }
      }
    },
    "/v1/clients/{id}": {
      "delete": {
        "operationId": "deleteClient",
        "tags": ["OAuth"],
        "summary": "Delete an OAuth client; its tokens answer 401 `invalid_token` at once",
        "security": [{"oauth2": ["clients:write"]}, {"bearerAuth": []}],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "204": {"description": "Deleted."},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openAPIDocument",
        "tags": ["Operations"],
        "summary": "This document",
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 document.",
            "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "info", "paths"]}}}
          }
        }
      }
    },
    "/portal": {
      "get": {
        "operationId": "portalPage",
        "tags": ["Portal"],
        "summary": "The delivery portal (a web page)",
        "description": "One self-contained page for a tenant's engineers: webhooks with status, lag and success rate, a 24 h chart of attempts and failures, deliveries with each attempt's status code, body and error, and (unless read-only) retry, replay, pause/enable, test event and secret rotation. It reads the session token from the URL fragment (`#token=`, from `POST /v1/portal/sessions`) and calls this API with it. No token needed for the page itself; it holds no data. `Cache-Control: no-store`.",
        "security": [],
        "responses": {
          "200": {
            "description": "The file, with `Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.",
            "content": {"text/html": {"schema": {"type": "string"}}}
          }
        }
      }
    },
    "/portal/app.js": {
      "get": {
        "operationId": "portalScript",
        "tags": ["Portal"],
        "summary": "The portal page's script",
        "description": "Same-origin script of `/portal` (the CSP forbids inline scripts). `Cache-Control: no-cache`.",
        "security": [],
        "responses": {
          "200": {
            "description": "The file, with `Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.",
            "content": {"text/javascript": {"schema": {"type": "string"}}}
          }
        }
      }
    },
    "/portal/app.css": {
      "get": {
        "operationId": "portalStylesheet",
        "tags": ["Portal"],
        "summary": "The portal page's stylesheet",
        "description": "Same-origin stylesheet of `/portal`. `Cache-Control: no-cache`.",
        "security": [],
        "responses": {
          "200": {
            "description": "The file, with `Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.",
            "content": {"text/css": {"schema": {"type": "string"}}}
          }
        }
      }
    },
    "/portal/icon.svg": {
      "get": {
        "operationId": "portalIcon",
        "tags": ["Portal"],
        "summary": "The portal page's icon",
        "description": "The icon of `/portal`. `Cache-Control: no-cache`.",
        "security": [],
        "responses": {
          "200": {
            "description": "The file, with `Content-Security-Policy: default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`.",
            "content": {"image/svg+xml": {"schema": {"type": "string"}}}
          }
        }
      }
    },
    "/v1/event-types": {
      "get": {
        "operationId": "listEventTypes",
        "tags": ["Events"],
        "summary": "The event type catalog",
        "security": [{"oauth2": ["events:read"]}, {"bearerAuth": []}],
        "responses": {
          "200": {
            "description": "Every event type, in one page.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventTypeList"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}
        }
      }
    },
    "/v1/events": {
      "post": {
        "operationId": "publishEvent",
        "tags": ["Events"],
        "summary": "Publish one event",
        "description": "Answers 201 once the event is durable in the log. With `Idempotency-Key`, a retry with the same key and body (within 24 h, per organization) returns the first result with `Idempotent-Replayed: true`.",
        "security": [{"oauth2": ["events:publish"]}, {"bearerAuth": []}],
        "parameters": [
          {
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
            "description": "1 to 255 visible ASCII characters."
          }
        ],
        "requestBody": {
          "required": true,
          "description": "The event.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewEvent"}}}
        },
        "responses": {
          "201": {
            "description": "Stored.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PublishedEvent"}}},
            "headers": {
              "Idempotent-Replayed": {
                "required": false,
                "description": "`true` when this is the stored result of an earlier request with the same key.",
                "schema": {"type": "string", "const": "true"}
              }
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"$ref": "#/components/responses/Conflict"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"},
          "507": {"description": "`insufficient_storage`: the disk is full; nothing was stored, and publishing resumes by itself once there is room.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      },
      "get": {
        "operationId": "listEvents",
        "tags": ["Events"],
        "summary": "Read events from the log",
        "description": "Events of the organization (or of `organization_id`, for platform:admin; `*` for all), in log order, after the offset `after`. One call scans at most 10000 log records, so a page may hold fewer than `limit` events while `next_after` is not null. Offsets that retention removed locally are read back from the archive; a page never skips an offset: 503 `archive_unavailable` while the archive cannot be read, 410 `events_unavailable` when no store holds the events any more.",
        "security": [{"oauth2": ["events:read"]}, {"bearerAuth": []}],
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775806},
            "description": "Return events with a larger offset (a `next_after`). Default: from offset 0."
          },
          {"$ref": "#/components/parameters/Limit"},
          {
            "name": "type",
            "in": "query",
            "schema": {"$ref": "#/components/schemas/EventTypeFilter"},
            "description": "Only events of this type, `category.*`, or `*`."
          },
          {
            "name": "organization_id",
            "in": "query",
            "schema": {"type": "string", "pattern": "^(\\*|[A-Za-z0-9_.-]{1,128})$"},
            "description": "Default: the token's organization. Another organization or `*` needs platform:admin."
          }
        ],
        "responses": {
          "200": {
            "description": "A page of events.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventPage"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "410": {"$ref": "#/components/responses/EventsUnavailable"},
          "503": {"$ref": "#/components/responses/ReadUnavailable"}
        }
      }
    },
    "/v1/events/batch": {
      "post": {
        "operationId": "publishEvents",
        "tags": ["Events"],
        "summary": "Publish up to 1000 events in one durable commit",
        "description": "Every event is validated first: one bad event rejects the whole batch (the message names `events[i]`). The body may be up to 8 MiB.",
        "security": [{"oauth2": ["events:publish"]}, {"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "description": "The events.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}
        },
        "responses": {
          "201": {
            "description": "All stored.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResponse"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"},
          "507": {"description": "`insufficient_storage`: the disk is full; nothing was stored, and publishing resumes by itself once there is room.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/v1/events/{id}/proof": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "maxLength": 64}, "description": "An event id (`evt_...`)."}],
      "get": {
        "operationId": "eventProof",
        "tags": ["Proofs"],
        "summary": "Inclusion proof of an event",
        "description": "RFC 9162 inclusion proof of the event (leaf = its `tail --format json` line) in the first `tree_size` events, with the signed checkpoint for that size. 404 for an event of another organization. With `offset` (the offset `POST /v1/events` answered) the lookup is exact and reads one event; without it the events from the time in the id on are searched, at most 10000 of them (404 `event_lookup_limit` when the search stops there). Events retention removed locally are read back from the archive.",
        "security": [{"oauth2": ["events:read"]}, {"bearerAuth": []}],
        "parameters": [{"name": "tree_size", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "Tree size to prove against (default: the whole durable log); above the log size: 400."},
                       {"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "The event's offset, for an exact lookup (404 when the event there has another id)."}],
        "responses": {
          "200": {"description": "The proof.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InclusionProof"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"description": "`not_found`: no such event in the organization's log (or not at `offset`); `event_lookup_limit`: not among the 10000 events searched from the time in its id on (details `scanned_from_offset`, `scanned_count`); ask with `offset`.", "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}], "properties": {"error": {"properties": {"code": {"enum": ["not_found", "event_lookup_limit"]}, "scanned_from_offset": {"type": "integer"}, "scanned_count": {"type": "integer"}}}}}}}},
          "410": {"description": "`events_unavailable`: no store holds the event any more, or the tree needs events retention removed locally.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "`archive_unavailable` (retry after `Retry-After`), `log_unavailable`, or `proof_unavailable`: the hash tiles give no proof that verifies (damaged and not rebuildable, or inconsistent with the stored checkpoint); nothing unverified is handed out.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/v1/log/checkpoint": {
      "get": {
        "operationId": "logCheckpoint",
        "tags": ["Proofs"],
        "summary": "The latest signed checkpoint",
        "description": "A C2SP tlog-checkpoint v1.0.0 in a C2SP signed-note signed with Ed25519 (signed anew when the log grew). Any valid token.",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The signed note.", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "503": {"description": "`log_unavailable`, or `proof_unavailable`: no checkpoint can be signed now (the hash tiles are damaged and cannot be rebuilt, or the log is not consistent with the stored checkpoint: nothing is signed).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/v1/log/vkey": {
      "get": {
        "operationId": "logVerifierKey",
        "tags": ["Proofs"],
        "summary": "The checkpoint verifier key",
        "description": "`<origin>+<hex key id>+<base64(0x01 || Ed25519 public key)>` and a newline. Any valid token.",
        "security": [{"bearerAuth": []}],
        "responses": {
          "200": {"description": "The verifier key.", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}
        }
      }
    },
    "/v1/log/consistency": {
      "get": {
        "operationId": "logConsistency",
        "tags": ["Proofs"],
        "summary": "Consistency proof between two tree sizes",
        "description": "RFC 9162 consistency proof that the first `from` events are a prefix of the first `to` events. Any valid token.",
        "security": [{"bearerAuth": []}],
        "parameters": [
          {"name": "from", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}},
          {"name": "to", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}, "description": "At most the log size; from at most to (else 400)."}
        ],
        "responses": {
          "200": {"description": "The proof (verified against both roots before it is sent).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ConsistencyProof"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "410": {"description": "`events_unavailable`: the tree needs events retention removed locally.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "`log_unavailable`, or `proof_unavailable`: the hash tiles give no proof that verifies (damaged and not rebuildable); nothing unverified is handed out.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/v1/webhooks": {
      "post": {
        "operationId": "createWebhook",
        "tags": ["Webhooks"],
        "summary": "Create a webhook",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "description": "The subscription.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookCreate"}}}
        },
        "responses": {
          "201": {
            "description": "Created; the only time (with rotate-secret) that the secret is shown.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookWithSecret"}}},
            "links": {
              "GetWebhook": {"operationId": "getWebhook", "parameters": {"id": "$response.body#/id"}},
              "UpdateWebhook": {"operationId": "updateWebhook", "parameters": {"id": "$response.body#/id"}},
              "DeleteWebhook": {"operationId": "deleteWebhook", "parameters": {"id": "$response.body#/id"}},
              "RotateWebhookSecret": {"operationId": "rotateWebhookSecret", "parameters": {"id": "$response.body#/id"}}
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"$ref": "#/components/responses/Conflict"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"}
        }
      },
      "get": {
        "operationId": "listWebhooks",
        "tags": ["Webhooks"],
        "summary": "List webhooks",
        "description": "The organization's webhooks by id (platform:admin tokens also see `*` webhooks).",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
            "description": "A `next_after` from the previous page."
          },
          {"$ref": "#/components/parameters/Limit"}
        ],
        "responses": {
          "200": {
            "description": "A page of webhooks.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookPage"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}
        }
      }
    },
    "/v1/webhooks/{id}": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "get": {
        "operationId": "getWebhook",
        "tags": ["Webhooks"],
        "summary": "Get a webhook",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "responses": {
          "200": {
            "description": "The webhook.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookView"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      },
      "patch": {
        "operationId": "updateWebhook",
        "tags": ["Webhooks"],
        "summary": "Change a webhook",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "requestBody": {
          "required": true,
          "description": "The members to change.",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookUpdate"}}}
        },
        "responses": {
          "200": {
            "description": "The changed webhook.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookView"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "413": {"$ref": "#/components/responses/ContentTooLarge"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"}
        }
      },
      "delete": {
        "operationId": "deleteWebhook",
        "tags": ["Webhooks"],
        "summary": "Delete a webhook",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "responses": {
          "204": {"description": "Deleted. Empty body."},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/webhooks/{id}/rotate-secret": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "post": {
        "operationId": "rotateWebhookSecret",
        "tags": ["Webhooks"],
        "summary": "Rotate the signing secret",
        "description": "A new secret signs from now on; the previous one keeps signing too for 24 hours. No request body.",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "responses": {
          "200": {
            "description": "The webhook with its new secret.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookWithSecret"}}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/webhooks/{id}/deliveries": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "get": {
        "operationId": "listDeliveries",
        "tags": ["Deliveries"],
        "summary": "Delivery history, newest first",
        "description": "The last 10,000 deliveries of the webhook with every attempt (time, status code, duration, first 4 KiB of the response body, error).",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "parameters": [
          {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "succeeded", "failed"]}},
          {"name": "after", "in": "query", "schema": {"type": "string", "minLength": 1, "maxLength": 64}, "description": "A delivery id from `next_after`."},
          {"$ref": "#/components/parameters/Limit"}
        ],
        "responses": {
          "200": {"description": "A page of deliveries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeliveryPage"}}}, "headers": {"Argus-Answered-By": {"$ref": "#/components/headers/ArgusAnsweredBy"}, "Argus-History": {"$ref": "#/components/headers/ArgusHistory"}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/webhooks/{id}/deliveries/{delivery_id}/retry": {
      "parameters": [
        {"$ref": "#/components/parameters/WebhookID"},
        {"name": "delivery_id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
      ],
      "post": {
        "operationId": "retryDelivery",
        "tags": ["Deliveries"],
        "summary": "Send a failed delivery again",
        "description": "Starts a new series of attempts of a failed delivery, with the webhook's retry policy, the same delivery id, and the webhook's URL and secrets as they are at each attempt. Owned by the webhook's lane like any attempt: one series per delivery at a time, counted in `max_in_flight` and `rate_limit_per_second`, cancelled when the webhook is deleted or disabled. The cursor is not involved. No request body.",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "responses": {
          "202": {"description": "Accepted.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryAccepted"}}}, "headers": {"Argus-Answered-By": {"$ref": "#/components/headers/ArgusAnsweredBy"}, "Argus-History": {"$ref": "#/components/headers/ArgusHistory"}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "409": {
            "description": "`not_retryable`: the delivery succeeded; `retry_in_progress`: an attempt series of this delivery is under way (live or manual); `webhook_not_enabled`: the webhook is paused or disabled.",
            "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}], "properties": {"error": {"properties": {"code": {"enum": ["not_retryable", "retry_in_progress", "webhook_not_enabled"]}}}}}}}
          },
          "410": {
            "description": "`event_unavailable`: the event can no longer be read (retention removed it and no archive holds it).",
            "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}], "properties": {"error": {"properties": {"code": {"enum": ["event_unavailable"]}}}}}}}
          },
          "503": {
            "description": "`delivery_stopped`: delivery is not running on this server; `archive_unavailable`: the archive holding the event cannot be read now (retry after `Retry-After`); `log_unavailable`; `temporarily_unavailable` (under `serve --engine`): the webhook's delivering process did not answer in full, and the retry may have started there: read the delivery before asking again.",
            "content": {"application/json": {"schema": {"allOf": [{"$ref": "#/components/schemas/Error"}], "properties": {"error": {"properties": {"code": {"enum": ["delivery_stopped", "archive_unavailable", "log_unavailable", "temporarily_unavailable"]}}}}}}}
          }
        }
      }
    },
    "/v1/webhooks/{id}/replay": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "post": {
        "operationId": "replayWebhook",
        "tags": ["Deliveries"],
        "summary": "Deliver again from an offset or a time",
        "description": "Moves the webhook's cursor back; events from there go out again, in order for ordered webhooks, with the same delivery ids. Give exactly one of `from_offset` (at most the log's head) and `since`. Archived offsets (removed locally by retention) replay like local ones. The first event is read before answering, and the answer is the range delivered again: `from_offset` up to `until_offset` (the head when asked; later events follow as usual).",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReplayRequest"}}}},
        "responses": {
          "202": {"description": "The replay starts.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReplayAccepted"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "410": {"$ref": "#/components/responses/EventsUnavailable"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"},
          "503": {"$ref": "#/components/responses/ReadUnavailable"}
        }
      }
    },
    "/v1/webhooks/{id}/stats": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "get": {
        "operationId": "webhookStats",
        "tags": ["Deliveries"],
        "summary": "Delivery statistics",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "responses": {
          "200": {"description": "One flat object.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookStats"}}}, "headers": {"Argus-Answered-By": {"$ref": "#/components/headers/ArgusAnsweredBy"}, "Argus-History": {"$ref": "#/components/headers/ArgusHistory"}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/webhooks/{id}/stats/timeseries": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "get": {
        "operationId": "webhookTimeseries",
        "tags": ["Deliveries"],
        "summary": "Attempts and failed attempts over time",
        "description": "Attempts (and of those the failed ones: no 2xx answer) per bucket over the last `hours`, counted from the delivery history (the deliveries it keeps listable, the last 10,000 per webhook). Buckets are aligned to multiples of `bucket_seconds` since 1970 (UTC), oldest first; the last one holds the present and is still filling. `complete` is false when the history may no longer hold every attempt of the window. At most 1440 buckets (`hours * 3600 / bucket_seconds`, rounded up): more answers 400 `invalid_query`.",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "parameters": [
          {"name": "hours", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 168, "default": 24}, "description": "The window, in hours up to now."},
          {"name": "bucket_seconds", "in": "query", "schema": {"type": "integer", "minimum": 60, "maximum": 86400, "default": 3600}, "description": "Width of a bucket, in seconds."}
        ],
        "responses": {
          "200": {"description": "The series.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookTimeseries"}}}, "headers": {"Argus-Answered-By": {"$ref": "#/components/headers/ArgusAnsweredBy"}, "Argus-History": {"$ref": "#/components/headers/ArgusHistory"}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/webhooks/{id}/test": {
      "parameters": [{"$ref": "#/components/parameters/WebhookID"}],
      "post": {
        "operationId": "testWebhook",
        "tags": ["Deliveries"],
        "summary": "Send a webhook.test event",
        "description": "Publishes a `webhook.test` event (data `{\"webhook_id\",\"message\"}`) that only this webhook receives. No request body.",
        "security": [{"oauth2": ["webhooks:write"]}, {"bearerAuth": []}],
        "responses": {
          "202": {"description": "The event, durable.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PublishedEvent"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "404": {"$ref": "#/components/responses/NotFound"},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/v1/portal/session": {
      "get": {
        "operationId": "getPortalSession",
        "tags": ["Portal"],
        "summary": "What the calling token is",
        "description": "The portal page asks this first: the token's organization, whether it may act (`read_only`: it lacks webhooks:write), whether it is a portal session token, and when it expires. Any token with webhooks:read may ask.",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "responses": {
          "200": {"description": "The session.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["organization_id", "read_only", "portal", "expires_at"], "additionalProperties": false,
            "properties": {
              "organization_id": {"type": "string"}, "read_only": {"type": "boolean"}, "portal": {"type": "boolean"},
              "expires_at": {"type": ["string", "null"], "format": "date-time"}
            }
          }}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"}
        }
      }
    },
    "/v1/portal/sessions": {
      "post": {
        "operationId": "createPortalSession",
        "tags": ["Portal"],
        "summary": "Open a delivery-portal session",
        "description": "Issues a short-lived portal token and the URL of the portal page with the token in the fragment (`<base>/portal#token=<token>`, so it never reaches a server log). The token sees only its organization and only the portal's routes: list and read webhooks, deliveries and stats, and (unless read-only) retry a delivery, replay, pause/enable (PATCH with `status` only), send a test event and rotate the secret. Every other route answers 403 `portal_forbidden`. Needs webhooks:read, and webhooks:write for a session that is not read-only; only platform:admin may name another `organization_id`. An empty body means the defaults.",
        "security": [{"oauth2": ["webhooks:read"]}, {"bearerAuth": []}],
        "requestBody": {
          "required": false,
          "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": false,
            "properties": {
              "read_only": {"type": ["boolean", "null"], "default": false},
              "expires_in": {"type": ["integer", "null"], "minimum": 60, "maximum": 86400, "default": 3600, "description": "Seconds until the token expires."},
              "organization_id": {"type": ["string", "null"], "maxLength": 128, "description": "platform:admin only; default (or null) the caller's organization."}
            }
          }}}
        },
        "responses": {
          "201": {"description": "The session.", "content": {"application/json": {"schema": {
            "type": "object", "required": ["url", "token", "expires_at", "read_only", "organization_id"],
            "properties": {
              "url": {"type": "string"}, "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
              "read_only": {"type": "boolean"}, "organization_id": {"type": "string"}
            }
          }}}},
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "403": {"$ref": "#/components/responses/Forbidden"},
          "415": {"$ref": "#/components/responses/UnsupportedMediaType"},
          "422": {"$ref": "#/components/responses/ValidationFailed"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "oauth2": {
        "type": "oauth2",
        "description": "Client credentials grant; platform:admin implies every other scope.",
        "flows": {
          "clientCredentials": {
            "tokenUrl": "/oauth/token",
            "scopes": {
              "events:publish": "Publish events",
              "events:read": "Read events and the event type catalog",
              "webhooks:read": "Read webhooks",
              "webhooks:write": "Create, change, delete webhooks and rotate their secrets",
              "clients:write": "List, create and delete the organization's OAuth clients",
              "metrics:read": "Read `/metrics` (unless the server runs with `--metrics-public`)",
              "platform:admin": "Every scope, for every organization (`organization_id` of any organization or `*`)"
            }
          }
        }
      },
      "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An access token from `/oauth/token`."},
      "clientBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "OAuth client authentication: client_id and client_secret."
      }
    },
    "parameters": {
      "WebhookID": {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/WebhookID"}},
      "Limit": {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "description": "Page size."
      }
    },
    "schemas": {
      "InclusionProof": {
        "type": "object",
        "required": ["offset", "tree_size", "leaf", "leaf_hash", "inclusion", "checkpoint"],
        "properties": {
          "offset": {"type": "integer", "minimum": 0},
          "tree_size": {"type": "integer", "minimum": 1},
          "leaf": {"type": "string", "description": "The event's `tail --format json` line (the leaf input)."},
          "leaf_hash": {"type": "string", "description": "base64 SHA-256(0x00 || leaf)."},
          "inclusion": {"type": "array", "items": {"type": "string"}, "description": "base64 hashes, leaf side first."},
          "checkpoint": {"type": "string", "description": "The signed checkpoint for tree_size."}
        }
      },
      "ConsistencyProof": {
        "type": "object",
        "required": ["from", "to", "consistency"],
        "properties": {
          "from": {"type": "integer", "minimum": 0},
          "to": {"type": "integer", "minimum": 0},
          "consistency": {"type": "array", "items": {"type": "string"}, "description": "base64 hashes."}
        }
      },
      "OAuthClient": {
        "type": "object",
        "required": ["client_id", "organization_id", "scopes", "description", "created_at"],
        "properties": {
          "client_id": {"type": "string"},
          "organization_id": {"type": "string"},
          "scopes": {"type": "array", "items": {"type": "string"}},
          "description": {"type": "string"},
          "created_at": {"type": "string", "format": "date-time"}
        }
      },
      "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": false,
        "properties": {
          "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": false,
            "properties": {
              "code": {"type": "string", "pattern": "^[a-z_]+$"},
              "message": {"type": "string"},
              "offset": {"type": "integer", "minimum": 0, "description": "Reads: the offset that could not be read (`archive_unavailable`: for a tampered archived segment, its first bad record)."},
              "earliest_available_offset": {"type": ["integer", "null"], "minimum": 0, "description": "`events_unavailable`: the first offset after `offset` that the log or the archive still holds."}
            }
          }
        },
        "description": "Every API error (all but the OAuth endpoints')."
      },
      "OAuthError": {
        "type": "object",
        "required": ["error", "error_description"],
        "additionalProperties": false,
        "description": "An RFC 6749 section 5.2 error.",
        "properties": {
          "error": {
            "type": "string",
            "enum": [
              "invalid_request",
              "invalid_client",
              "invalid_grant",
              "unauthorized_client",
              "unsupported_grant_type",
              "invalid_scope",
              "unsupported_token_type",
              "temporarily_unavailable", "too_many_requests", "too_many_tokens"
            ]
          },
          "error_description": {"type": "string"}
        }
      },
      "TokenRequest": {
        "type": "object",
        "required": ["grant_type"],
        "description": "Client authentication is HTTP Basic (client_id:client_secret, each form-encoded) or the `client_id` and `client_secret` fields, not both. Other fields are ignored; a repeated field is `invalid_request`.",
        "properties": {
          "grant_type": {"type": "string", "const": "client_credentials"},
          "scope": {
            "type": "string",
            "pattern": "^ *(?:events:publish|events:read|webhooks:read|webhooks:write|clients:write|metrics:read|platform:admin)(?: +(?:events:publish|events:read|webhooks:read|webhooks:write|clients:write|metrics:read|platform:admin))* *$",
            "description": "Space-separated subset of the client's scopes (`invalid_scope` for any other); default: all of them.",
            "examples": ["events:publish events:read"]
          },
          "client_id": {"type": "string", "description": "Form client authentication (instead of HTTP Basic)."},
          "client_secret": {"type": "string", "description": "Form client authentication (instead of HTTP Basic)."}
        },
        "additionalProperties": {"type": "string", "description": "Other fields are ignored (each may appear once)."}
      },
      "TokenResponse": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "scope"],
        "additionalProperties": false,
        "properties": {
          "access_token": {"type": "string", "minLength": 1, "maxLength": 512},
          "token_type": {"type": "string", "const": "Bearer"},
          "expires_in": {"type": "integer", "minimum": 1, "description": "Seconds (3600 by default)."},
          "scope": {"type": "string", "description": "The granted scopes, space-separated."}
        }
      },
      "RevokeRequest": {
        "type": "object",
        "required": ["token"],
        "description": "RFC 7009. Client authentication as for `/oauth/token`. A client can revoke only its own tokens; an unknown token still answers 200.",
        "properties": {
          "token": {"type": "string", "minLength": 1},
          "token_type_hint": {"type": "string", "enum": ["access_token", "refresh_token"]},
          "client_id": {"type": "string"},
          "client_secret": {"type": "string"}
        },
        "additionalProperties": {"type": "string", "description": "Other fields are ignored (each may appear once)."}
      },
      "Health": {
        "type": "object",
        "required": ["status", "next_offset"],
        "additionalProperties": false,
        "properties": {
          "status": {"type": "string", "const": "ok"},
          "next_offset": {"type": "integer", "minimum": 0, "description": "Offset the next event will get."}
        }
      },
      "EventType": {
        "type": "string",
        "enum": [
          "user.created",
          "user.login",
          "user.login_failed",
          "user.logout",
          "user.password_changed",
          "user.email_changed",
          "user.profile_updated",
          "mfa.enabled",
          "mfa.disabled",
          "mfa.passkey_registered",
          "mfa.challenge_failed",
          "security.breach_attempt_detected",
          "security.account_locked",
          "security.suspicious_login",
          "security.password_breach_detected",
          "sso.authentication_completed",
          "sso.provider_linked",
          "sso.provider_unlinked",
          "organization.user_added",
          "organization.user_removed",
          "organization.role_changed",
          "session.created",
          "session.terminated",
          "session.concurrent_limit_reached",
          "oauth.client_registered",
          "oauth.token_issued",
          "oauth.token_revoked",
          "webhook.test",
          "webhook.failing",
          "webhook.recovered",
          "webhook.paused",
          "webhook.disabled",
          "webhook.enabled",
          "delivery.exhausted"
        ],
        "description": "An event type of the built-in catalog (`GET /v1/event-types`). Operational events are published by the service into the webhook's organization (`platform` for `*` webhooks) and never delivered to the webhook they are about; their data always holds `webhook_id`: `webhook.failing` (5th consecutive failed attempt; `consecutive_failures`, `last_status_code`), `webhook.recovered` (first success after failing), `webhook.paused` and `webhook.disabled` (`reason`), `webhook.enabled`, `delivery.exhausted` (`delivery_id`, `event_id`, `offset`, `attempts`, `last_status_code`)."
      },
      "EventTypeFilter": {
        "type": "string",
        "pattern": "^(\\*|[a-z0-9_]+\\.(\\*|[a-z0-9_]+))$",
        "description": "An exact event type, `category.*`, or `*`. An exact type must be in the catalog."
      },
      "OrganizationID": {
        "type": "string",
        "pattern": "^[A-Za-z0-9_.-]{1,128}$",
        "description": "1 to 128 characters of `[A-Za-z0-9_.-]`."
      },
      "EventTypeInfo": {
        "type": "object",
        "required": ["type", "category"],
        "additionalProperties": false,
        "properties": {
          "type": {"$ref": "#/components/schemas/EventType"},
          "category": {"type": "string", "pattern": "^[a-z0-9_]+$"}
        }
      },
      "EventTypeList": {
        "type": "object",
        "required": ["data", "next_after"],
        "additionalProperties": false,
        "properties": {
          "data": {"type": "array", "items": {"$ref": "#/components/schemas/EventTypeInfo"}},
          "next_after": {"type": "null"}
        }
      },
      "NewEvent": {
        "type": "object",
        "required": ["type"],
        "additionalProperties": false,
        "properties": {
          "type": {"$ref": "#/components/schemas/EventType"},
          "organization_id": {
            "anyOf": [{"$ref": "#/components/schemas/OrganizationID"}, {"type": "null"}],
            "description": "Default (also for null): the token's organization. Only platform:admin tokens may publish for another organization."
          },
          "data": {
            "type": "object",
            "description": "The event payload: a JSON object of at most 262144 bytes as compact JSON (413 `data_too_large` beyond). Default: {}."
          }
        },
        "examples": [{"type": "user.created", "organization_id": "org_demo", "data": {"user_id": "u_1"}}]
      },
      "PublishedEvent": {
        "type": "object",
        "required": ["id", "offset", "timestamp"],
        "additionalProperties": false,
        "properties": {
          "id": {"$ref": "#/components/schemas/EventID"},
          "offset": {"type": "integer", "minimum": 0},
          "timestamp": {"type": "string", "format": "date-time"}
        }
      },
      "EventID": {"type": "string", "pattern": "^evt_[0-9A-HJKMNP-TV-Z]{26}$", "description": "`evt_` and a ULID."},
      "BatchRequest": {
        "type": "object",
        "required": ["events"],
        "additionalProperties": false,
        "properties": {
          "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {"$ref": "#/components/schemas/NewEvent"}
          }
        }
      },
      "BatchResponse": {
        "type": "object",
        "required": ["events"],
        "additionalProperties": false,
        "properties": {
          "events": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {"$ref": "#/components/schemas/PublishedEvent"},
            "description": "In request order; offsets are consecutive."
          }
        }
      },
      "Event": {
        "type": "object",
        "required": ["id", "type", "timestamp", "organization_id", "offset", "data"],
        "additionalProperties": false,
        "description": "The event envelope, as delivered to webhooks (without `delivery_id`).",
        "properties": {
          "id": {"$ref": "#/components/schemas/EventID"},
          "type": {"type": "string", "pattern": "^[a-z0-9_]+\\.[a-z0-9_]+$"},
          "timestamp": {"type": "string", "format": "date-time"},
          "organization_id": {"type": "string", "minLength": 1, "maxLength": 128},
          "offset": {"type": "integer", "minimum": 0},
          "data": {"type": "object"}
        }
      },
      "EventPage": {
        "type": "object",
        "required": ["data", "next_after"],
        "additionalProperties": false,
        "properties": {
          "data": {"type": "array", "maxItems": 1000, "items": {"$ref": "#/components/schemas/Event"}},
          "next_after": {
            "type": ["integer", "null"],
            "minimum": 0,
            "description": "Pass as `after` to continue; null at the head of the log."
          }
        }
      },
      "RetryPolicy": {
        "type": "object",
        "required": ["max_retries", "initial_delay_ms", "max_delay_ms"],
        "additionalProperties": false,
        "properties": {
          "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
          "initial_delay_ms": {"type": "integer", "minimum": 100, "maximum": 86400000},
          "max_delay_ms": {"type": "integer", "minimum": 100, "maximum": 86400000}
        }
      },
      "RetryPolicyInput": {
        "type": "object",
        "additionalProperties": false,
        "description": "Omitted or null members keep their value (defaults: 3 retries, 10000 ms, 3600000 ms). `max_delay_ms` must be at least `initial_delay_ms` (422 otherwise).",
        "properties": {
          "max_retries": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
          "initial_delay_ms": {"type": ["integer", "null"], "minimum": 100, "maximum": 86400000},
          "max_delay_ms": {"type": ["integer", "null"], "minimum": 100, "maximum": 86400000}
        }
      },
      "WebhookID": {"type": "string", "pattern": "^wh_[0-9a-f]{24}$"},
      "WebhookSecret": {
        "type": "string",
        "pattern": "^whsec_[A-Za-z0-9+/]+={0,2}$",
        "description": "`whsec_` and the base64 of the 32-byte signing key."
      },
      "WebhookPublicKey": {
        "type": "string",
        "pattern": "^whpk_[A-Za-z0-9+/]{43}=$",
        "description": "`whpk_` and the base64 of the 32-byte Ed25519 public key that verifies the webhook's `v1a` signatures."
      },
      "Webhook": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "organization_id",
          "url",
          "description",
          "event_types",
          "ordered",
          "max_in_flight",
          "retry",
          "rate_limit_per_second",
          "signature",
          "status",
          "status_reason",
          "start_offset",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "id": {"$ref": "#/components/schemas/WebhookID"},
          "organization_id": {
            "anyOf": [{"$ref": "#/components/schemas/OrganizationID"}, {"const": "*"}],
            "description": "`*`: every organization (platform:admin only)."
          },
          "url": {"type": "string", "maxLength": 2048},
          "description": {"type": "string"},
          "event_types": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {"$ref": "#/components/schemas/EventTypeFilter"}
          },
          "ordered": {"type": "boolean"},
          "max_in_flight": {"type": "integer", "minimum": 1, "maximum": 100},
          "retry": {"$ref": "#/components/schemas/RetryPolicy"},
          "rate_limit_per_second": {"type": ["integer", "null"], "minimum": 1, "maximum": 10000, "description": "Attempts (retries included) in any one-second window; null: unlimited."},
          "status": {"type": "string", "enum": ["enabled", "disabled", "paused"]},
          "status_reason": {"type": ["string", "null"]},
          "start_offset": {"type": "integer", "minimum": 0},
          "created_at": {"type": "string", "format": "date-time"},
          "updated_at": {"type": "string", "format": "date-time"},
          "signature": {
            "type": "string",
            "enum": ["hmac", "ed25519"],
            "description": "`hmac`: Standard Webhooks `v1` (HMAC-SHA256, shared secret). `ed25519`: `v1a` (Ed25519; the receiver holds only `public_key`)."
          },
          "public_key": {"$ref": "#/components/schemas/WebhookPublicKey"},
          "secret": {"$ref": "#/components/schemas/WebhookSecret"}
        }
      },
      "WebhookWithSecret": {
        "allOf": [{"$ref": "#/components/schemas/Webhook"}],
        "anyOf": [{"required": ["secret"]}, {"required": ["public_key"]}],
        "description": "The webhook with its current signing secret (only from create and rotate-secret), or for `ed25519` webhooks its current public key (the private key never leaves the service)."
      },
      "WebhookView": {
        "allOf": [{"$ref": "#/components/schemas/Webhook"}],
        "not": {"required": ["secret"]},
        "description": "The webhook without its secret."
      },
      "WebhookPage": {
        "type": "object",
        "required": ["data", "next_after"],
        "additionalProperties": false,
        "properties": {
          "data": {"type": "array", "maxItems": 1000, "items": {"$ref": "#/components/schemas/WebhookView"}},
          "next_after": {
            "anyOf": [{"$ref": "#/components/schemas/WebhookID"}, {"type": "null"}],
            "description": "Pass as `after` for the next page; null on the last page."
          }
        }
      },
      "WebhookCreate": {
        "type": "object",
        "required": ["url", "event_types"],
        "additionalProperties": false,
        "properties": {
          "url": {
            "type": "string",
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
            "maxLength": 2048,
            "description": "An `https://` URL (http only when the server allows it) without credentials or fragment, whose host resolves only to public unicast addresses (or operator-allowed blocks): 422 `invalid_url`, `unresolvable_host` or `forbidden_target` otherwise."
          },
          "event_types": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {"$ref": "#/components/schemas/EventTypeFilter"}
          },
          "description": {
            "type": ["string", "null"],
            "maxLength": 1024,
            "description": "At most 1024 bytes of UTF-8. Default: empty."
          },
          "ordered": {
            "type": ["boolean", "null"],
            "description": "Deliver strictly in log order, one at a time. Default: false."
          },
          "max_in_flight": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 100,
            "description": "Default 16; must be 1 (or omitted) when `ordered` is true."
          },
          "retry": {"anyOf": [{"$ref": "#/components/schemas/RetryPolicyInput"}, {"type": "null"}]},
          "rate_limit_per_second": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 10000,
            "description": "At most this many attempts (retries and manual retries included) in any one-second window. Default: null (unlimited)."
          },
          "signature": {
            "type": ["string", "null"],
            "enum": ["hmac", "ed25519", null],
            "description": "Default `hmac` (Standard Webhooks `v1`, a `whsec_` secret). `ed25519`: `v1a` signatures; the response carries `public_key` (`whpk_`) instead of a secret, and deliveries carry no `x-argus-signature`. Fixed for the webhook's life (rotation keeps the scheme)."
          },
          "organization_id": {
            "type": ["string", "null"],
            "pattern": "^(\\*|[A-Za-z0-9_.-]{1,128})$",
            "description": "Default: the token's organization; `*` (platform:admin only) subscribes to every organization."
          },
          "start": {
            "anyOf": [
              {"type": "string", "enum": ["now", "beginning"]},
              {"type": "integer", "minimum": 0},
              {"type": "null"}
            ],
            "description": "Where delivery starts: `now` (default: events appended after creation), `beginning`, or an offset no later than the log's head (422 beyond)."
          }
        },
        "if": {"required": ["ordered"], "properties": {"ordered": {"const": true}}},
        "then": {"properties": {"max_in_flight": {"enum": [1, null]}}},
        "examples": [
          {
            "url": "https://hooks.example.com/argus",
            "event_types": ["user.*", "security.account_locked"],
            "description": "SIEM export",
            "retry": {"max_retries": 5}
          }
        ]
      },
      "WebhookUpdate": {
        "type": "object",
        "additionalProperties": false,
        "description": "Omitted or null members keep their value. Changing `url` checks it again. An ordered webhook has `max_in_flight` 1.",
        "properties": {
          "url": {
            "type": ["string", "null"],
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
            "maxLength": 2048,
            "description": "As for create."
          },
          "event_types": {
            "type": ["array", "null"],
            "minItems": 1,
            "maxItems": 100,
            "items": {"$ref": "#/components/schemas/EventTypeFilter"}
          },
          "description": {"type": ["string", "null"], "maxLength": 1024},
          "ordered": {"type": ["boolean", "null"]},
          "max_in_flight": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
          "retry": {"anyOf": [{"$ref": "#/components/schemas/RetryPolicyInput"}, {"type": "null"}]},
          "rate_limit_per_second": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 10000,
            "description": "As for create; null removes the limit (here null does not mean 'keep')."
          },
          "status": {
            "type": ["string", "null"],
            "enum": ["enabled", "disabled", null],
            "description": "`disabled` stops deliveries (attempts in flight and manual retries are cancelled, the cursor stays); `enabled` resumes them, a paused or 410-disabled ordered webhook with the event it stopped at."
          }
        },
        "examples": [{"status": "disabled"}, {"event_types": ["user.*"], "max_in_flight": 4}],
        "if": {"required": ["ordered"], "properties": {"ordered": {"const": true}}},
        "then": {"properties": {"max_in_flight": {"enum": [1, null]}}}
      },
      "DeliveryAttempt": {
        "type": "object",
        "required": ["attempt", "started_at_ms", "started_at", "duration_ms", "status_code", "response_body", "error"],
        "additionalProperties": false,
        "properties": {
          "attempt": {"type": "integer", "minimum": 1},
          "started_at_ms": {"type": "integer"},
          "started_at": {"type": "string", "format": "date-time"},
          "duration_ms": {"type": "number", "minimum": 0},
          "status_code": {"type": ["integer", "null"], "description": "The status of a complete answer; null when none arrived (see `error`)."},
          "response_body": {"type": "string", "description": "The first 4 KiB of the response body."},
          "error": {"type": ["string", "null"], "description": "Why no usable answer arrived, starting with a code: `connection_closed: ...` (the receiver closed or reset the connection before a complete answer; failed at once), `timed_out: ...` (no complete answer within the attempt's 15 s deadline), `network_error: ...` (refused connection, DNS, TLS, unreadable answer) or `target refused: ...` (the target guard refused the URL at attempt time)."}
        }
      },
      "Delivery": {
        "type": "object",
        "required": ["id", "webhook_id", "offset", "event_id", "event_type", "status", "attempt_count", "next_attempt_at", "attempts"],
        "additionalProperties": false,
        "properties": {
          "id": {"type": "string", "description": "The delivery id (UUID v4 form), stable across retries, restarts and replays."},
          "webhook_id": {"$ref": "#/components/schemas/WebhookID"},
          "offset": {"type": "integer", "minimum": 0},
          "event_id": {"type": "string"},
          "event_type": {"type": "string"},
          "status": {"type": "string", "enum": ["pending", "succeeded", "failed"]},
          "attempt_count": {"type": "integer", "minimum": 0},
          "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
          "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/DeliveryAttempt"}}
        }
      },
      "DeliveryPage": {
        "type": "object",
        "required": ["data", "next_after"],
        "additionalProperties": false,
        "properties": {
          "data": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}},
          "next_after": {"type": ["string", "null"]}
        }
      },
      "RetryAccepted": {
        "type": "object",
        "required": ["delivery_id", "id", "status"],
        "additionalProperties": false,
        "properties": {
          "delivery_id": {"type": "string"},
          "id": {"type": "string", "description": "The same as `delivery_id` (kept for older clients)."},
          "status": {"type": "string", "enum": ["pending"]}
        }
      },
      "ReplayRequest": {
        "type": "object",
        "additionalProperties": false,
        "description": "Exactly one of `from_offset` and `since` (null counts as absent); otherwise 422.",
        "properties": {
          "from_offset": {"type": ["integer", "null"], "minimum": 0},
          "since": {"type": ["string", "null"], "format": "date-time", "maxLength": 64}
        },
        "examples": [{"from_offset": 0}, {"since": "2026-06-05T00:00:00Z"}]
      },
      "ReplayAccepted": {
        "type": "object",
        "required": ["webhook_id", "from_offset", "until_offset", "event_count"],
        "additionalProperties": false,
        "description": "The range delivered again: offsets `from_offset` up to, not including, `until_offset` (the head when the replay was asked).",
        "properties": {
          "webhook_id": {"$ref": "#/components/schemas/WebhookID"},
          "from_offset": {"type": "integer", "minimum": 0},
          "until_offset": {"type": "integer", "minimum": 0},
          "event_count": {"type": "integer", "minimum": 0}
        },
        "examples": [{"webhook_id": "wh_01J0000000000000000000000", "from_offset": 0, "until_offset": 300, "event_count": 300}]
      },
      "WebhookTimeseries": {
        "type": "object",
        "required": ["webhook_id", "start", "end", "bucket_seconds", "complete", "attempts", "failed", "buckets"],
        "additionalProperties": false,
        "properties": {
          "webhook_id": {"$ref": "#/components/schemas/WebhookID"},
          "start": {"type": "string", "format": "date-time", "description": "Start of the first bucket."},
          "end": {"type": "string", "format": "date-time", "description": "End of the last bucket (exclusive)."},
          "bucket_seconds": {"type": "integer", "minimum": 60, "maximum": 86400},
          "complete": {"type": "boolean", "description": "False when the history may no longer hold every attempt of the window (more deliveries than it keeps)."},
          "attempts": {"type": "integer", "minimum": 0, "description": "Attempts in the window."},
          "failed": {"type": "integer", "minimum": 0, "description": "Failed attempts in the window."},
          "buckets": {
            "type": "array", "minItems": 1, "maxItems": 1440,
            "items": {
              "type": "object", "required": ["start", "attempts", "failed"], "additionalProperties": false,
              "properties": {
                "start": {"type": "string", "format": "date-time"},
                "attempts": {"type": "integer", "minimum": 0},
                "failed": {"type": "integer", "minimum": 0}
              }
            }
          }
        }
      },
      "WebhookStats": {
        "type": "object",
        "required": ["webhook_id", "status", "attempts", "succeeded", "failed", "success_rate", "consecutive_failures", "cursor", "head", "lag",
                     "in_flight", "status_reason", "status_message", "last_attempt_at", "last_success_at", "last_failure_at"],
        "additionalProperties": false,
        "properties": {
          "webhook_id": {"$ref": "#/components/schemas/WebhookID"},
          "status": {"type": "string", "enum": ["enabled", "disabled", "paused"]},
          "attempts": {"type": "integer", "minimum": 0},
          "succeeded": {"type": "integer", "minimum": 0},
          "failed": {"type": "integer", "minimum": 0},
          "success_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
          "consecutive_failures": {"type": "integer", "minimum": 0},
          "cursor": {"type": "integer", "minimum": 0},
          "head": {"type": "integer", "minimum": 0},
          "lag": {"type": "integer", "minimum": 0},
          "in_flight": {"type": "integer", "minimum": 0, "description": "Attempts in flight, manual retries included."},
          "unresolved": {"type": "integer", "minimum": 0, "description": "Deliveries in the cursor's window: in flight, waiting for a retry, or held while paused or disabled."},
          "status_reason": {
            "type": ["string", "null"], "enum": ["archive_unavailable", "events_unavailable", "log_unavailable", null],
            "description": "Why the webhook cannot read its next events, while it cannot: `archive_unavailable` (it waits and retries with backoff), `events_unavailable` (no store holds them; the webhook is paused), `log_unavailable`; null when reading is fine."
          },
          "status_message": {"type": ["string", "null"], "description": "What `status_reason` is about (offsets, the archive's error), else the webhook's own status reason."},
          "last_attempt_at": {"type": ["string", "null"], "format": "date-time"},
          "last_success_at": {"type": ["string", "null"], "format": "date-time"},
          "last_failure_at": {"type": ["string", "null"], "format": "date-time"}
        }
      }
    },
    "headers": {
      "ArgusAnsweredBy": {
        "required": false,
        "description": "Under `serve --engine`: the process (lease holder) that delivers this webhook answered; the request was forwarded to it. Only for a webhook visible to the token's organization: any other id gets the unmarked 404 `not_found` of an unknown id, and is never forwarded.",
        "schema": {"type": "string"}
      },
      "ArgusHistory": {
        "required": false,
        "description": "Under `serve --engine`: `local` when the delivering process could not be reached and the asked process answered from its own history. Only for a webhook visible to the token's organization.",
        "schema": {"type": "string", "const": "local"}
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Bad request: a malformed `Authorization` header (`invalid_request`), a body that is not JSON (`invalid_json`), a bad query parameter (`invalid_query`), a bad `Idempotency-Key` (`invalid_idempotency_key`), or a malformed HTTP request (`bad_request`).",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {
                "error": {
                  "properties": {
                    "code": {
                      "enum": [
                        "invalid_request",
                        "invalid_json",
                        "invalid_query",
                        "invalid_idempotency_key",
                        "bad_request"
                      ]
                    }
                  }
                }
              }
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No access token (`missing_token`), or one that is unknown, expired or revoked.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {
                "error": {
                  "properties": {"code": {"enum": ["missing_token", "invalid_token", "token_expired", "token_revoked"]}}
                }
              }
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "description": "The challenge (RFC 6750), with `error` and `scope` where they apply.",
            "required": true,
            "schema": {"type": "string"}
          }
        }
      },
      "Forbidden": {
        "description": "The token lacks the route's scope (`insufficient_scope`), or names another organization (`forbidden_organization`).",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["insufficient_scope", "forbidden_organization"]}}}}
            }
          }
        }
      },
      "NotFound": {
        "description": "No such webhook in the token's organization (another organization's ids answer 404 too).",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["not_found"]}}}}
            }
          }
        }
      },
      "Conflict": {
        "description": "`idempotency_in_progress`: a request with the same `Idempotency-Key` is running; `limit_reached`: the organization has 1000 webhooks.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["idempotency_in_progress", "limit_reached"]}}}}
            }
          }
        }
      },
      "ContentTooLarge": {
        "description": "The body exceeds 1 MiB (8 MiB for the batch route; `body_too_large`), or one event's `data` exceeds 256 KiB (`data_too_large`).",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["body_too_large", "data_too_large"]}}}}
            }
          }
        }
      },
      "UnsupportedMediaType": {
        "description": "The body is not `application/json`.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["unsupported_media_type"]}}}}
            }
          }
        }
      },
      "ValidationFailed": {
        "description": "The JSON is well-formed but not acceptable: a wrong or missing member (`validation_failed`), a member the route does not know (`unknown_field`), a malformed or unknown event type, an event type only the service publishes (`reserved_event_type`: `oauth.*`, `webhook.*`, `delivery.*`), an `Idempotency-Key` reused with another body, or a refused webhook URL.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {
                "error": {
                  "properties": {
                    "code": {
                      "enum": [
                        "validation_failed",
                        "unknown_field",
                        "invalid_event_type",
                        "unknown_event_type",
                        "reserved_event_type",
                        "idempotency_key_reused",
                        "invalid_url",
                        "unresolvable_host",
                        "forbidden_target"
                      ]
                    }
                  }
                }
              }
            }
          }
        }
      },
      "ReadUnavailable": {
        "description": "The events cannot be read now; nothing was skipped. `archive_unavailable`: the archive holding them cannot be read (network, credentials, a missing object, or an archived segment that differs from its manifest entry: the message and `offset` name the first bad record); retry after `Retry-After`. `log_unavailable`: the local log cannot be read.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds (for `archive_unavailable`)."}},
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["archive_unavailable", "log_unavailable"]}}}}
            }
          }
        }
      },
      "EventsUnavailable": {
        "description": "`events_unavailable`: no store (the log or the archive) holds the event at `offset` any more; `earliest_available_offset` is the first one after it that is held.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["events_unavailable"]}}}}
            }
          }
        }
      },
      "Unavailable": {
        "description": "The log is busy (`overloaded`, with `Retry-After`) or could not store the events (`log_unavailable`); nothing was appended.",
        "content": {
          "application/json": {
            "schema": {
              "allOf": [{"$ref": "#/components/schemas/Error"}],
              "properties": {"error": {"properties": {"code": {"enum": ["overloaded", "log_unavailable"]}}}}
            }
          }
        }
      }
    }
  }
}
"""#
}
