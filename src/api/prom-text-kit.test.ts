import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePrometheusText } from './prom-text-kit.ts';

describe('the strict Prometheus text parser (test kit)', () => {
  test('parses families, labels with escapes, and a histogram', () => {
    const f = parsePrometheusText(
      [
        '# HELP a_total Things\\nmore',
        '# TYPE a_total counter',
        'a_total{x="q\\"\\\\\\n"} 3',
        '# TYPE h histogram',
        'h_bucket{le="0.1"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 0.5',
        'h_count 2',
        '',
      ].join('\n'),
    );
    assert.equal(f.get('a_total')?.help, 'Things\nmore');
    assert.deepEqual(f.get('a_total')?.samples[0]?.labels, { x: 'q"\\\n' });
    assert.equal(f.get('h')?.samples.length, 4);
  });

  const bad: Array<[string, string]> = [
    ['no final newline', 'a 1'],
    ['bad name', '1a 1\n'],
    ['bad value', 'a one\n'],
    ['unquoted label', 'a{x=1} 1\n'],
    ['bad escape', 'a{x="\\t"} 1\n'],
    ['duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['split family', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['non-cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['count mismatch', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['unknown type', '# TYPE a thing\n'],
    ['sample of the wrong kind', '# TYPE h histogram\nh 1\n'],
  ];
  for (const [what, text] of bad)
    test(`refuses: ${what}`, () => assert.throws(() => parsePrometheusText(text)));
});
