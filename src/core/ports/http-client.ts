// Outbound HTTP for the DDNS providers and the IP echo. The driver never follows a redirect (a token
// in a URL or header must not travel to another host), caps the time and the body, and rejects with
// a message that names neither the URL nor a header (either may carry a secret).

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReply {
  status: number;
  body: string;
  /** The Retry-After header, when the server sent one. */
  retryAfter?: string;
}

export interface HttpClient {
  send(req: HttpRequest): Promise<HttpReply>;
}
