// The answer of the "16 headers, 1 KiB JSON" scenario: one page of a listing, as an API behind a
// browser sends it, exactly 1 KiB. Every server sends these same bytes, made once at start-up, so
// that the scenario measures the servers and not JSON.stringify.
const SIZE = 1024;

const items = [1, 2, 3, 4, 5].map((n) => ({
  id: 1000 + n,
  name: `Item ${n}`,
  price: { amount: 1999 + n * 100, currency: 'EUR' },
  tags: ['new', 'sale'],
  inStock: n % 2 === 1,
  updatedAt: `2024-05-0${n}T12:00:00Z`,
}));

function page(cursor: string): string {
  return JSON.stringify({ page: 2, perPage: items.length, total: 95, items, next: `/api/items?page=3&cursor=${cursor}` });
}

const unpadded = page('').length;
if (unpadded > SIZE) throw new Error(`the JSON page is ${unpadded} bytes without its cursor, more than ${SIZE}`);

/** The JSON body, exactly SIZE bytes of ASCII. */
export const JSON_BODY = Buffer.from(page('c'.repeat(SIZE - unpadded)));
