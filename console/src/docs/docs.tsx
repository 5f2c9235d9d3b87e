/**
 * The API reference page (/docs/): swagger-ui, shipped with the service,
 * rendering /openapi.json. With keys on it asks for the console's key the
 * same way, and sends it with every request "Try it out" makes.
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiFetch } from '../api/client.js';
import { authHeaders } from '../api/key.js';
import { ErrorBox } from '../ui/error-box.js';
import { KeyDialog } from '../ui/key-dialog.js';
import '../frame.css';

/** Loaded by its own script tag (swagger-ui-bundle.js) before this one. */
declare const SwaggerUIBundle: (config: Record<string, unknown>) => unknown;

interface SwaggerRequest {
  headers: Record<string, string>;
}

function Docs() {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    apiFetch('/openapi.json')
      .then((res) => res.json())
      .then((spec: unknown) => {
        SwaggerUIBundle({
          spec,
          domNode: ref.current,
          deepLinking: true,
          // No call to swagger.io's validator: the page makes no request beyond this service.
          validatorUrl: null,
          requestInterceptor: (req: SwaggerRequest) => {
            Object.assign(req.headers, authHeaders());
            return req;
          },
        });
      })
      .catch(setError);
  }, []);
  return (
    <>
      <header class="top">
        <a class="brand" href="/">
          transferd
        </a>
        <nav>
          <a href="/">Console</a>
        </nav>
      </header>
      <ErrorBox error={error} />
      <div ref={ref} data-testid="swagger-ui" />
      <KeyDialog />
    </>
  );
}

render(<Docs />, document.getElementById('app')!);
