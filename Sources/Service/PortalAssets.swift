import HTTPServer

/// The delivery portal's page, script, stylesheet and icon: written by us and compiled into the binary as
/// Swift strings (no build step, no framework, no external resource), served with headers that allow only
/// same-origin resources. They hold no data (the page reads the session token from the URL fragment and calls
/// the `/v1` API), so they need no token.
enum PortalAssets {
    /// `Content-Security-Policy` of every portal response: scripts, styles, images and API calls only from this
    /// origin (no inline script or style), never framed, no `<base>`, forms post nowhere else.
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// `GET /portal`.
    static var page: HTTPResponse { response(html, contentType: "text/html; charset=utf-8", cacheControl: "no-store") }
    /// `GET /portal/app.js`.
    static var script: HTTPResponse { response(javaScript, contentType: "text/javascript; charset=utf-8", cacheControl: "no-cache") }
    /// `GET /portal/app.css`.
    static var stylesheet: HTTPResponse { response(css, contentType: "text/css; charset=utf-8", cacheControl: "no-cache") }
    /// `GET /portal/icon.svg` (so browsers do not ask for a missing `/favicon.ico`).
    static var icon: HTTPResponse { response(svgIcon, contentType: "image/svg+xml", cacheControl: "no-cache") }

    /// `body` with the portal's security headers; `cacheControl` is `no-store` for the page, `no-cache` (revalidate)
    /// for the files it loads.
    static func response(_ body: String, contentType: String, cacheControl: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: HTTPHeaders([
            ("Content-Type", contentType), ("Content-Security-Policy", contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
            ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Cache-Control", cacheControl),
        ]), body: Array(body.utf8))
    }

    static let svgIcon = #"""
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d4ed8"/><path d="M8 22 L16 8 L24 22 Z" fill="none" stroke="#fff" stroke-width="3" stroke-linejoin="round"/></svg>
        """#
}
