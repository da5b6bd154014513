import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../../renderer/src/router.tsx';

describe("the Outbox page's addresses", () => {
  it('names the list and one message, and nothing deeper', () => {
    expect(parseRoute('/outbox')).toEqual({ page: 'outbox' });
    expect(parseRoute('/outbox/')).toEqual({ page: 'outbox' });
    const id = `obx_${'0'.repeat(32)}`;
    expect(parseRoute(`/outbox/${id}`)).toEqual({ page: 'outbox_message', id });
    // An id is taken as typed (the host refuses a malformed one with its own error).
    expect(parseRoute('/outbox/%3Cimg%3E')).toEqual({ page: 'outbox_message', id: '<img>' });
    expect(parseRoute(`/outbox/${id}/retry`)).toEqual({ page: 'not_found' });
  });
});
