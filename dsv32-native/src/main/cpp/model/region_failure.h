// region_failure.h: no exception may leave an OpenMP region (it would terminate the process), so work inside one runs
// through RegionFailure::run, which records that some iteration threw; the caller checks failed() after the region and
// throws its own error there, on one thread.
#ifndef DSV32_MODEL_REGION_FAILURE_H
#define DSV32_MODEL_REGION_FAILURE_H

namespace dsv32 {

class RegionFailure {
public:
    template <class F>
    void run(F&& f) noexcept {
        try {
            f();
        } catch (...) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            failed_ = true;
        }
    }
    bool failed() const { return failed_; }

private:
    bool failed_ = false;
};

}  // namespace dsv32

#endif
