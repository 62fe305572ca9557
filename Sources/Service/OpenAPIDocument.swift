/// The OpenAPI 3.1 description of the whole API, served at `GET /openapi.json`.
enum OpenAPIDocument {
    static let text = #"""
{"openapi":"3.1.0","info":{"title":"Argus Events","version":"0.1.0"},"paths":{}}
"""#
}
