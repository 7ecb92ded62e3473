import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { InvalidPortalLinkError, WebhookPortal } from '../../lib/portal/index.js'; // in your app: 'nestjs-convoy/portal'

/**
 * GET /portal-link?owner=<id> → { "url": "…" }: a link to that customer's webhook portal, valid for an hour.
 * A demo: anyone can ask for any owner here. In your app, give a signed-in customer a link to their own owner id only.
 */
@Controller('portal-link')
export class PortalLinkController {
  constructor(private readonly portal: WebhookPortal) {}

  @Get()
  async link(@Query('owner') owner: unknown): Promise<{ url: string }> {
    try {
      return { url: (await this.portal.link(owner as string, { expiresInMs: 3_600_000 })).url };
    } catch (error) {
      if (error instanceof InvalidPortalLinkError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
