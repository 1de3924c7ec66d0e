package engine

import "sync"

// pool runs a kernel's work on a fixed set of goroutines, started by Open
// and stopped by Close. run splits a range of independent items (output
// rows or channels) into one contiguous chunk per goroutine, the caller
// taking the first; it allocates nothing.
type pool struct {
	n    int
	jobs []chan job
	wg   sync.WaitGroup
}

// job is one chunk [lo, hi) of work for worker w.
type job struct {
	fn     func(w, lo, hi int)
	w      int
	lo, hi int
}

func newPool(threads int) *pool {
	p := &pool{n: max(threads, 1)}
	for i := 1; i < p.n; i++ {
		ch := make(chan job)
		p.jobs = append(p.jobs, ch)
		go func() {
			for j := range ch {
				j.fn(j.w, j.lo, j.hi)
				p.wg.Done()
			}
		}()
	}
	return p
}

// run calls fn over [0, total) in chunks of at least grain items, spread
// over the pool's goroutines, and returns when all are done.
func (p *pool) run(total, grain int, fn func(w, lo, hi int)) {
	k := p.n
	if grain < 1 {
		grain = 1
	}
	k = min(k, (total+grain-1)/grain)
	if k <= 1 {
		if total > 0 {
			fn(0, 0, total)
		}
		return
	}
	chunk := (total + k - 1) / k
	for i := 1; i < k; i++ {
		lo := i * chunk
		hi := min(total, lo+chunk)
		if lo >= hi {
			break
		}
		p.wg.Add(1)
		p.jobs[i-1] <- job{fn: fn, w: i, lo: lo, hi: hi}
	}
	fn(0, 0, min(chunk, total))
	p.wg.Wait()
}

func (p *pool) close() {
	for _, ch := range p.jobs {
		close(ch)
	}
	p.jobs = nil
}
