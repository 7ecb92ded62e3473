import { Logger } from '@nestjs/common';

// Tests provoke failures on purpose; keep Nest's logger quiet. A test that asserts on logs installs its own logger.
Logger.overrideLogger(false);
