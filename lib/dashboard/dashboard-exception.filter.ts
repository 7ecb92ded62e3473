import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { html } from '../ui/html.js';
import { renderPage } from '../ui/page.js';
import { sendHtml, type DashboardResponse } from './dashboard-http.js';
import type { DashboardConfig } from './dashboard.options.js';

const logger = new Logger('ConvoyDashboard');

/**
 * Every error of a dashboard route (a guard's refusal included) as a small page with the security headers, never
 * Nest's JSON or a stack trace; unexpected errors are logged and shown as a generic 500.
 */
@Catch()
export class DashboardExceptionFilter implements ExceptionFilter {
  constructor(private readonly config: Pick<DashboardConfig, 'base' | 'title'>) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<DashboardResponse>();
    let status = 500;
    let message = 'Something went wrong; the error is in the application log.';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      message = status === 403 && exception.message === 'Forbidden resource' ? 'Access denied.' : exception.message;
    } else {
      logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    const title = status === 403 ? 'Forbidden' : status === 404 ? 'Not found' : 'Error';
    sendHtml(
      res,
      status,
      renderPage({
        title,
        brand: this.config.title,
        assetsPath: this.config.base,
        body: html`<p>${message}</p><p><a href="${this.config.base}/endpoints">Back to the dashboard</a></p>`,
      }),
    );
  }
}
