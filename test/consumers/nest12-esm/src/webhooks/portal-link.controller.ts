import { Controller, Get, Query } from '@nestjs/common';
import { WebhookPortal, type PortalLink } from 'nestjs-convoy/portal';

/** The app's own route that hands a customer their portal link (here: anyone, for the consumer check). */
@Controller('portal-link')
export class PortalLinkController {
  constructor(private readonly portal: WebhookPortal) {}

  @Get()
  link(@Query('owner') owner: string): Promise<PortalLink> {
    return this.portal.link(owner, { expiresInMs: 600_000 });
  }
}
