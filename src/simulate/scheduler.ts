/**
 * One timer for the whole fleet: a binary min-heap of (due time, device index). The runner
 * sleeps until the earliest entry, takes everything due, and puts each device back when its
 * cycle is over, so ten thousand devices cost two numbers each rather than a timer each.
 */
export class Wheel {
  private readonly at: number[] = []
  private readonly ids: number[] = []

  get size(): number {
    return this.at.length
  }

  schedule(id: number, at: number): void {
    this.at.push(at)
    this.ids.push(id)
    this.up(this.at.length - 1)
  }

  /** The earliest due time, or null when nothing is scheduled. */
  nextAt(): number | null {
    return this.at.length > 0 ? this.at[0]! : null
  }

  /** Removes and returns every id due at or before `now`, earliest first, at most `limit`. */
  takeDue(now: number, limit = Infinity): number[] {
    const out: number[] = []
    while (this.at.length > 0 && this.at[0]! <= now && out.length < limit) out.push(this.pop())
    return out
  }

  private pop(): number {
    const id = this.ids[0]!
    const lastAt = this.at.pop()!
    const lastId = this.ids.pop()!
    if (this.at.length > 0) {
      this.at[0] = lastAt
      this.ids[0] = lastId
      this.down(0)
    }
    return id
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.at[parent]! <= this.at[i]!) return
      this.swap(i, parent)
      i = parent
    }
  }

  private down(i: number): void {
    const n = this.at.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.at[l]! < this.at[m]!) m = l
      if (r < n && this.at[r]! < this.at[m]!) m = r
      if (m === i) return
      this.swap(i, m)
      i = m
    }
  }

  private swap(a: number, b: number): void {
    ;[this.at[a], this.at[b]] = [this.at[b]!, this.at[a]!]
    ;[this.ids[a], this.ids[b]] = [this.ids[b]!, this.ids[a]!]
  }
}
